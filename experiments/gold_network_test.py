#!/usr/bin/python3
"""experiments/gold_network.py restates the letter tasks' gold formula in
Python (the ideal response, the position match, the length and
off-alphabet penalties, the gold network's repetition penalty) to fit the
gold networks' scale. Checked here against the C++ the trainer runs
(tasks/letter_tasks.h), through experiments/letter_formula, on random
prompts and responses: off-alphabet characters, runs of one letter, empty,
too short and too long responses, the ideal one and its usual slips."""
import os
import random
import subprocess
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from gold_network import (ideal_response, penalties,  # noqa: E402
                          position_match)

TOOL = os.path.join(here, "letter_formula")
PREFIX = {"sort": "sort:", "reverse": "rev:"}
LETTERS = "abcdefgh"


def random_response(rng, ideal):
    kind = rng.randrange(5)
    if kind == 0:
        return ideal
    if kind == 1:  # a demonstration's slip: one letter doubled
        i = rng.randrange(len(ideal))
        return ideal[:i + 1] + ideal[i:]
    if kind == 2:  # a run of one letter, as an over-optimised policy writes
        return rng.choice(LETTERS) * rng.randint(1, 12)
    alphabet = LETTERS + ("xz=:?" if kind == 3 else "")
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))


def random_cases(count, seed=1):
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        task = rng.choice(sorted(PREFIX))
        letters = "".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 8)))
        prompt = PREFIX[task] + letters + "="
        cases.append((task, prompt,
                      random_response(rng, ideal_response(task, prompt))))
    return cases


def cpp_terms(cases):
    text = "".join(f"{t}\t{p}\t{r}\n" for t, p, r in cases)
    out = subprocess.run([TOOL], input=text, capture_output=True, text=True,
                         check=True).stdout
    terms = []
    for line in out.splitlines():
        ideal, match, penalty, repetition = line.split("\t")
        terms.append((ideal, float(match), float(penalty), float(repetition)))
    return terms


class GoldFormulaTest(unittest.TestCase):
    def test_python_terms_equal_the_cpp_ones(self):
        cases = random_cases(3000)
        terms = cpp_terms(cases)
        self.assertEqual(len(terms), len(cases))
        runs = foreign = 0
        for (task, prompt, response), (ideal, match, penalty,
                                       repetition) in zip(cases, terms):
            with self.subTest(task=task, prompt=prompt, response=response):
                self.assertEqual(ideal_response(task, prompt), ideal)
                self.assertAlmostEqual(position_match(ideal, response), match,
                                       places=12)
                self.assertAlmostEqual(penalties(ideal, response, False),
                                       penalty, places=12)
                self.assertAlmostEqual(
                    penalties(ideal, response, True)
                    - penalties(ideal, response, False), repetition,
                    places=12)
            runs += repetition > 0
            foreign += any(c not in LETTERS for c in response)
        # The cases reach every term: both penalties are often non-zero.
        self.assertGreater(runs, 300)
        self.assertGreater(foreign, 300)

    def test_known_values(self):
        # tasks/letter_tasks.h: "aaaa" for "abcd" costs 0.5 of repetition.
        ((_, match, penalty, repetition),) = cpp_terms(
            [("sort", "sort:dbca=", "aaaa")])
        self.assertEqual((match, penalty, repetition), (0.25, 0.0, 0.5))
        self.assertEqual(penalties("abcd", "aaaa", True), 0.5)

    def test_a_bad_line_is_refused_with_its_number(self):
        result = subprocess.run([TOOL], input="sort\tsort:ab=\tab\nsort\tx\n",
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("stdin line 2", result.stderr)


if __name__ == "__main__":
    unittest.main()
