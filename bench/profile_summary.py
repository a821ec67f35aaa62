#!/usr/bin/env python3
"""Self time per operator of a LibTorch profiler trace (Chrome JSON, the
legacy profiler's), top N: where a step's time goes.

    profile_summary.py TRACE [--top 15]
"""
import argparse
import collections
import json


def self_times(events):
    """Self time = duration minus the time of the events nested inside it
    (same thread)."""
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e.get("tid")].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
    totals = collections.Counter()
    for evs in by_thread.values():
        stack = []
        for e in evs:
            start, dur = float(e["ts"]), float(e["dur"])
            while stack and stack[-1]["end"] <= start:
                done = stack.pop()
                totals[done["name"]] += done["dur"] - done["child"]
            if stack:
                stack[-1]["child"] += dur
            stack.append({"end": start + dur, "name": e["name"], "dur": dur,
                          "child": 0.0})
        while stack:
            done = stack.pop()
            totals[done["name"]] += done["dur"] - done["child"]
    return totals


def main():
    p = argparse.ArgumentParser()
    p.add_argument("trace")
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args()
    events = json.load(open(args.trace))
    if isinstance(events, dict):
        events = events.get("traceEvents", [])
    totals = self_times(events)
    whole = sum(totals.values())
    print(f"{'operator':40} {'self ms':>9} {'share':>6}")
    for name, us in totals.most_common(args.top):
        print(f"{name[:40]:40} {us / 1000:9.2f} {us / whole:6.1%}")
    print(f"{'all':40} {whole / 1000:9.2f}")


if __name__ == "__main__":
    main()
