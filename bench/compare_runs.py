#!/usr/bin/env python3
"""How far two bench/run.sh runs are apart, figure by figure.

    compare_runs.py A/results.json B/results.json [--within 0.15]

A or B may also be the table bench/run.sh printed (its log, or the table
quoted in docs/PERFORMANCE.md, e.g. an earlier one from git history):
`git show REV:docs/PERFORMANCE.md > old.md; compare_runs.py old.md
B/results.json`. A file holding several tables is refused.

Prints, for every ratio figure (MFU, Python/C++, speedups, the collectives'
ratios) in both runs, the two medians and their relative difference
|a - b| / min(a, b); marks those beyond --within. Exits 0 (it reports; the
judgement is the reader's, written in docs/PERFORMANCE.md).
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize import key  # noqa: E402  the table's figure names


# A row of the printed table: the figure's key, its median, its spread
# ("[min .. max] n=N", "(exact)" or "(n=1)"), then the unit and goal.
TABLE_ROW = re.compile(
    r"^(\S+)\s+(\S+)\s+(?:\[.*?\] n=\d+|\(exact\)|\(n=\d+\))\s*(.*)$")


def table_figures(path, lines):
    """The figures of the one table bench/run.sh printed in `lines`; exit 2
    naming `path` when it holds none or several."""
    starts = [i for i, line in enumerate(lines) if line.startswith("figure ")]
    if len(starts) != 1:
        print(f"compare_runs.py: {path}: expected one table (one line "
              f"starting 'figure '), found {len(starts)}", file=sys.stderr)
        sys.exit(2)
    figures = []
    for line in lines[starts[0] + 1:]:
        row = TABLE_ROW.match(line)
        if row is None:
            break
        figure_key, median, unit = row.groups()
        name, _, d_model = figure_key.partition("@")  # summarize.key's form
        shapes = {"d_model": int(d_model)} if d_model else {}
        figures.append({"name": name, "median": float(median), "unit": unit,
                        "shapes": shapes})
    return figures


def load(path):
    with open(path) as f:
        if path.endswith(".json"):
            return json.load(f)["figures"]
        return table_figures(path, f.read().splitlines())


def is_ratio(f):
    return f["name"].endswith(("_mfu", "_share")) or (
        f["unit"].startswith("x (") and "sharded / replicated state" not in f["unit"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--within", type=float, default=0.15)
    args = p.parse_args()
    a = {key(f): f for f in load(args.a)}
    b = {key(f): f for f in load(args.b)}
    print(f"{'ratio figure':52} {'run A':>9} {'run B':>9} {'apart':>7}")
    beyond = 0
    for k, fa in a.items():
        fb = b.get(k)
        if fb is None or not is_ratio(fa):
            continue
        low = min(abs(fa["median"]), abs(fb["median"]))
        if fa["median"] == fb["median"]:
            apart = 0.0
        else:
            apart = abs(fa["median"] - fb["median"]) / low if low > 0 else float("inf")
        mark = "" if apart <= args.within else f"  beyond {args.within:.0%}"
        beyond += bool(mark)
        print(f"{k:52} {fa['median']:9.4g} {fb['median']:9.4g} {apart:7.1%}{mark}")
    print(f"\n{beyond} ratio figures more than {args.within:.0%} apart")


if __name__ == "__main__":
    main()
