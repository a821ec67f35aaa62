"""The statistics of the paired comparison in experiments/make_report.py:
a bootstrap interval of a mean over seeds, the difference a number of seeds
can detect, and a moving average for noisy per-iteration curves."""
import math
import random
import statistics

# Two-sided 5% test with 80% power: z_0.975 + z_0.8.
Z_SUM = 1.959964 + 0.841621


def bootstrap_ci(values, level=0.95, resamples=10000, seed=0):
    """Percentile bootstrap interval of the mean of `values` (one per seed):
    [low, high]. One value gives [value, value]: no interval from one seed."""
    if len(values) == 1:
        return [values[0], values[0]]
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(rng.choice(values) for _ in range(n)) / n
                   for _ in range(resamples))
    tail = (1 - level) / 2
    return [means[int(tail * resamples)],
            means[min(resamples - 1, int((1 - tail) * resamples))]]


def detectable_difference(noise, seeds):
    """The smallest mean paired difference a two-sided 5% test detects with
    80% power, over `seeds` seeds whose paired differences have standard
    deviation `noise` (the A/A check's)."""
    return Z_SUM * noise / math.sqrt(seeds)


def seeds_needed(noise, difference):
    """Seeds for detectable_difference(noise, seeds) <= difference."""
    return math.ceil((Z_SUM * noise / difference) ** 2)


def smoothed(values, window):
    """Centred moving average, the window cut at the ends."""
    half = window // 2
    return [statistics.mean(values[max(0, i - half):i + half + 1])
            for i in range(len(values))]
