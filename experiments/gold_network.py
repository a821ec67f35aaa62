#!/usr/bin/python3
"""Makes the testbed's gold networks, data/gold/{sort,reverse}
(experiments/make_gold_network.sh; docs/testbed.md, "A gold reward the
reward model can learn").

    gold_network.py job TASK OUT_DIR [PAIRS]  # the teacher job's text
    gold_network.py fit TASK RUN_DIR DEST

The teacher job is the reproduction's (experiments/reproduce_plan.py, full
profile) at a seed no reproduction uses, cut to one round of reward-model
training on 16 times the pairs, labelled at a low temperature by the
formula's gold reward, its reward model exported (reward_model_hf). `fit`
copies that folder to DEST and writes DEST/gold.json: the affine map of
the network's scores whose mean on the teacher's SFT samples is the
formula's position match's, and whose scale makes Bradley-Terry labels of
pairs of those samples (at the reproduction's temperature) agree with the
gold as often as the formula's labels agree with the formula: the labels
stay as noisy as they were, and only what they encode changes.
"""
import itertools
import json
import math
import os
import shutil
import statistics
import sys

import reproduce_plan

SEED = 1000
PAIRS = 16384
LABEL_TEMPERATURE = 0.02
LEARNING_RATE = "3e-4"


def job_text(task, out_dir, pairs=PAIRS):
    full = reproduce_plan.PROFILES["full"]
    return reproduce_plan.TEMPLATE.format(
        profile="gold network teacher", name=f"gold_network_{task}",
        seed=SEED, arm_seed=0, out=out_dir, task=task, gold_network="",
        label_temperature=LABEL_TEMPERATURE, best_of_n=0,
        **reproduce_plan.REWARD_MODEL_ONLY,
        **dict(reproduce_plan.shared_fields(full), pairs=pairs,
               reward_learning_rate=LEARNING_RATE,
               reward_model_extra="export_hf: true "))


def ideal_response(task, prompt):
    letters = prompt.split(":", 1)[1].rstrip("=")
    return "".join(sorted(letters)) if task == "sort" else letters[::-1]


def position_match(ideal, response):
    """The formula's match term (tasks/letter_tasks.h)."""
    return sum(a == b for a, b in zip(ideal, response)) / len(ideal)


def longest_run(text):
    longest, run = 0, 0
    for i, c in enumerate(text):
        run = run + 1 if i > 0 and c == text[i - 1] else 1
        longest = max(longest, run)
    return longest


def penalties(ideal, response, repetition):
    """length + foreign (+ repetition, the network's): tasks/letter_tasks.h."""
    n = len(ideal)
    total = 0.25 * abs(len(response) - n) / n
    if response:
        total += 0.5 * sum(c not in "abcdefgh" for c in response) / len(
            response)
    if repetition:
        total += max(0, longest_run(response) - longest_run(ideal) - 1) / n
    return total


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def label_agreement(gaps):
    """How often Bradley-Terry labels at the reproduction's temperature
    agree with the gold: the mean of sigmoid(|Δr*| / T) over the pairs."""
    t = reproduce_plan.LABEL_TEMPERATURE
    return statistics.mean(sigmoid(abs(g) / t) for g in gaps)


def fit(task, run_dir, dest):
    lines = [json.loads(l) for l in open(f"{run_dir}/eval_samples.jsonl")]
    # Round 1's samples: one PPO iteration at the reproduction's learning
    # rate from the SFT policy, scored by the teacher (proxy_reward).
    line = next(l for l in lines if l["round"] == 1)
    scores, matches, pairs = [], [], []
    for prompt, responses, proxy in zip(line["prompts"], line["responses"],
                                        line["proxy_reward"]):
        ideal = ideal_response(task, prompt)
        match = [position_match(ideal, r) for r in responses]
        scores += proxy
        matches += match
        for i, j in itertools.combinations(range(len(responses)), 2):
            if responses[i] == responses[j]:
                continue
            pairs.append((
                match[i] - match[j]
                - penalties(ideal, responses[i], False)
                + penalties(ideal, responses[j], False),
                proxy[i] - proxy[j],
                penalties(ideal, responses[j], True)
                - penalties(ideal, responses[i], True)))
    # The scale at which the network's gold differences between two
    # responses to one prompt make labels as noisy as the formula's do
    # (the gold's own accuracy, the ceiling a reward model can reach), found
    # by bisection: the agreement grows with the scale.
    target = label_agreement([formula for formula, _, _ in pairs])
    low, high = 1e-4, 100.0
    for _ in range(100):
        scale = math.sqrt(low * high)
        agreement = label_agreement([scale * ds + dp for _, ds, dp in pairs])
        low, high = (scale, high) if agreement < target else (low, scale)
    offset = statistics.mean(matches) - scale * statistics.mean(scores)
    if os.path.exists(dest):
        shutil.rmtree(dest)
    shutil.copytree(f"{run_dir}/reward_model_hf", dest)
    with open(f"{dest}/gold.json", "w") as f:
        json.dump({"scale": scale, "offset": offset}, f, indent=1)
        f.write("\n")
    print(f"{task}: scale {scale:.4f} offset {offset:.4f} from "
          f"{len(scores)} samples and {len(pairs)} pairs; the labels' "
          f"agreement with the gold {target:.3f}, as the formula's")


def main():
    command = sys.argv[1]
    if command == "job":
        pairs = int(sys.argv[4]) if len(sys.argv) > 4 else PAIRS
        print(job_text(sys.argv[2], sys.argv[3], pairs), end="")
    elif command == "fit":
        fit(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"gold_network.py: unknown command '{command}'")


if __name__ == "__main__":
    main()
