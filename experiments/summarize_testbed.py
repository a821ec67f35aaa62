#!/usr/bin/python3
"""Tables of experiments/testbed_shift.sh's runs: per task, the proxy's
agreement with the gold ordering on SFT pairs and on best-of-n pairs, and
proxy and gold reward against n; mean ± standard deviation over seeds.

  summarize_testbed.py RUNS_DIR
"""
import collections
import json
import os
import sys

from stats_cells import cell



def main():
    root = sys.argv[1]
    runs = collections.OrderedDict()
    for name in sorted(os.listdir(root)):
        if name.endswith(".json"):
            run = json.load(open(os.path.join(root, name)))
            runs.setdefault(run["task"], []).append(run)
    print("| task | seeds | agreement, SFT pairs | agreement, best-of-%d pairs |"
          % runs[next(iter(runs))][0]["best_of_n"][-1]["n"])
    print("|---|---|---|---|")
    for task, rows in runs.items():
        print("| %s | %d | %s | %s |" % (
            task, len(rows), cell([r["accuracy_sft_pairs"] for r in rows]),
            cell([r["accuracy_shifted_pairs"] for r in rows])))
    for task, rows in runs.items():
        print()
        print("%s: best-of-n against the proxy" % task)
        print()
        print("| n | KL bound (nats) | proxy reward | gold reward |")
        print("|---|---|---|---|")
        for i, point in enumerate(rows[0]["best_of_n"]):
            print("| %d | %.2f | %s | %s |" % (
                point["n"], point["kl_bound"],
                cell([r["best_of_n"][i]["proxy"] for r in rows]),
                cell([r["best_of_n"][i]["gold"] for r in rows])))


if __name__ == "__main__":
    main()
