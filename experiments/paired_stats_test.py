#!/usr/bin/python3
"""Tests of experiments/paired_stats.py against direct computations."""
import os
import random
import statistics
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paired_stats import (bootstrap_ci, detectable_difference,  # noqa: E402
                          seeds_needed, smoothed)


class BootstrapTest(unittest.TestCase):
    def test_one_value_is_no_interval(self):
        self.assertEqual(bootstrap_ci([0.3]), [0.3, 0.3])

    def test_equal_values_give_a_point(self):
        low, high = bootstrap_ci([0.1] * 5)
        self.assertAlmostEqual(low, 0.1)
        self.assertAlmostEqual(high, 0.1)

    def test_interval_matches_the_normal_one_for_many_values(self):
        # For a large sample the percentile interval of the mean is about
        # mean ± 1.96 sd / sqrt(n) (sd with divisor n).
        rng = random.Random(1)
        values = [rng.gauss(0.2, 1.0) for _ in range(400)]
        low, high = bootstrap_ci(values, resamples=4000)
        mean = statistics.mean(values)
        half = 1.96 * statistics.pstdev(values) / len(values) ** 0.5
        self.assertAlmostEqual(low, mean - half, delta=0.1 * half)
        self.assertAlmostEqual(high, mean + half, delta=0.1 * half)

    def test_deterministic(self):
        self.assertEqual(bootstrap_ci([0.1, -0.2, 0.4]),
                         bootstrap_ci([0.1, -0.2, 0.4]))


class PowerTest(unittest.TestCase):
    def test_detectable_difference_has_80_percent_power(self):
        # Simulated: n paired differences with sd 1 and mean equal to the
        # detectable difference; a two-sided 5% z test (known sd) rejects
        # about 80% of the time.
        rng = random.Random(2)
        n, trials = 16, 4000
        effect = detectable_difference(1.0, n)
        rejected = 0
        for _ in range(trials):
            mean = statistics.mean(rng.gauss(effect, 1.0) for _ in range(n))
            rejected += abs(mean) * n ** 0.5 > 1.959964
        self.assertAlmostEqual(rejected / trials, 0.80, delta=0.03)

    def test_seeds_needed_inverts_detectable_difference(self):
        for noise in (0.02, 0.05, 0.1):
            n = seeds_needed(noise, 0.05)
            self.assertLessEqual(detectable_difference(noise, n), 0.05)
            if n > 1:
                self.assertGreater(detectable_difference(noise, n - 1), 0.05)


class SmoothedTest(unittest.TestCase):
    def test_centred_window_cut_at_the_ends(self):
        self.assertEqual(smoothed([1, 2, 3, 4, 5], 3), [1.5, 2, 3, 4, 4.5])
        self.assertEqual(smoothed([7], 5), [7])


if __name__ == "__main__":
    unittest.main()
