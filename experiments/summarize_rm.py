#!/usr/bin/python3
"""Table of the final epoch of every run under a folder of reward-model runs
(one sub-folder per run, named MODE_etaETA_seedSEED, each with
reward_model.jsonl): mean and standard deviation over seeds.

  summarize_rm.py RUNS_DIR
"""
import collections
import json
import os
import sys

from stats_cells import cell

COLUMNS = [
    ("eval_accuracy", "acc. original"),
    ("shifted_accuracy", "acc. shifted"),
    (("reward_gaps", "raw", "mean"), "gap mean (raw)"),
    (("reward_gaps", "normalized", "mean"), "gap mean (normalised)"),
    (("reward_gaps", "normalized", "quantiles", "q10"), "gap q10 (normalised)"),
    ("meta_objective", "J (train, last epoch)"),
    ("gradient_cosine", "cos(∇L, ∇J)"),
]


def value(row, key):
    if isinstance(key, str):
        return row[key]
    for part in key:
        row = row[part]
    return row



def main():
    root = sys.argv[1]
    groups = collections.OrderedDict()
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name, "reward_model.jsonl")
        if not os.path.exists(path):
            continue
        config = name.rsplit("_seed", 1)[0]
        last = [json.loads(line) for line in open(path)][-1]
        groups.setdefault(config, []).append(last)
    seeds = max(len(rows) for rows in groups.values())
    print("| run | " + " | ".join(title for _, title in COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for config, rows in groups.items():
        cells = [cell([value(row, key) for row in rows]) for key, _ in COLUMNS]
        if rows[0]["mode"] == "VANILLA":
            cells[-2:] = ["—", "—"]  # VANILLA computes no J
        print("| %s | %s |" % (config, " | ".join(cells)))
    print()
    print("Final epoch; mean ± standard deviation over %d seed(s). The number "
          "in a run's name is η (METARM, METARM_EXACT) or λ (GAP_REGULARIZED)."
          % seeds)


if __name__ == "__main__":
    main()
