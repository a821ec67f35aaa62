#!/usr/bin/env python3
"""Joins the benchmarks' JSON lines into bench/out/results.json, checks
every figure against its physical bounds, prints the table with each
figure's spread, and exits 1 if a check failed.

    summarize.py LINES RESULTS --machine TEXT --command TEXT --mode MODE

Every line carries the median of its repeats, their min and max and every
sample (bench/figure.h); every ratio, the Python/C++ ones included
(bench/python_turns.h), is already the median of per-pair ratios. A figure
printed more than once (a benchmark run again) has its samples pooled.
A figure whose check says "not measured: REASON" (Hugging Face generate()
without the transformers package) is listed with its reason and fails
nothing.

A goal counts as met only when the whole range clears it, missed when the
whole range falls short, and "unclear" otherwise.
"""
import argparse
import collections
import json
import statistics
import sys

GOALS = {  # name: (comparison, goal) from the performance issue
    "metarm_step_mfu@512": (">=", 0.5),
    "python_over_cpp_metarm_step@128": (">=", 1.25),
    "python_over_cpp_metarm_step@512": (">=", 1.0),
    "python_over_cpp_ppo_update@128": (">=", 1.25),
    "python_over_cpp_ppo_update@512": (">=", 1.0),
    "python_over_cpp_generation@128": (">=", 1.5),
    "python_over_cpp_generation@512": (">=", 1.5),
    "generation_kv_cache_speedup@128": (">=", 3.0),
    "generation_kv_cache_speedup@512": (">=", 3.0),
    "weight_sync_bucketed_over_flat": ("<=", 1.2),
    "grad_allreduce_effective_bandwidth_ratio": (">=", 0.9),
    # bench/run.sh runs the collectives on 2 ranks: 1/N = 0.5.
    "zero1_optimizer_state_share@512": ("<=", 0.5),
    "zero1_max_parameter_difference@512": ("<=", 1e-6),
    # The generation engine (bench/generation_bench.cc), d_model 512.
    "engine_over_static@512": (">=", 2.0),
    "shared_prompt_speedup@512": (">=", 1.3),
    "decode_memory_roofline_fraction_b1@512": (">=", 0.5),
}

# Physical bounds: (low, high, low inclusive). A median outside its bound
# means the measurement or its FLOP count is wrong, and fails the run.
BOUNDS = {
    "_mfu": (0.0, 1.0, False),
    "_share": (0.0, 1.0, True),
}


def key(entry):
    d = entry["shapes"].get("d_model")
    name = entry["name"]
    return f"{name}@{d}" if d is not None and not name.startswith(("weight_", "grad_")) else name


def figure(name, samples, unit, shapes, check="ok"):
    median = statistics.median(samples) if samples else 0.0
    return {"name": name, "value": median, "median": median,
            "min": min(samples, default=0.0), "max": max(samples, default=0.0),
            "repeats": len(samples), "samples": samples,
            "unit": unit, "shapes": shapes, "check": check}


def pool_passes(lines):
    """{key: [entry of pass 1, entry of pass 2, ...]} in first-seen order."""
    passes = collections.OrderedDict()
    for e in lines:
        passes.setdefault(key(e), []).append(e)
    return passes


def pooled(entries):
    """One figure from the same figure's passes: every sample; a failed
    check in any pass is kept."""
    samples = [s for e in entries for s in e["samples"]]
    failed = [e["check"] for e in entries if e["check"] != "ok"]
    first = entries[0]
    return figure(first["name"], samples, first["unit"], first["shapes"],
                  failed[0] if failed else "ok")


def bound_check(e):
    """The figure's check, or why its median breaks its physical bound."""
    if e["check"] != "ok" or not e["samples"]:
        return e["check"]
    for suffix, (low, high, low_inclusive) in BOUNDS.items():
        if e["name"].endswith(suffix):
            m = e["median"]
            inside = (m >= low if low_inclusive else m > low) and m <= high
            if not inside:
                return "median %.4g outside its bound %s%g, %g]" % (
                    m, "[" if low_inclusive else "(", low, high)
    if e["unit"].startswith("x (") and not e["median"] > 0:
        return "a ratio must be positive, got %.4g" % e["median"]
    return "ok"


def goal_verdict(e, op, target):
    """met, missed or unclear: does the whole range clear the goal? (not
    measured without samples)"""
    if e["check"] != "ok" or not e["samples"]:
        return "not measured"
    if op == ">=":
        if e["min"] >= target:
            return "met"
        return "missed" if e["max"] < target else "unclear"
    if e["max"] <= target:
        return "met"
    return "missed" if e["min"] > target else "unclear"


def spread(e):
    exact = e["unit"].startswith(("bytes", "x (sharded", "("))
    if exact and e["min"] == e["max"]:
        return "(exact)"
    if e["repeats"] == 0:
        return "(none)"
    if e["repeats"] == 1:
        return "(n=1)"
    return f"[{e['min']:.4g} .. {e['max']:.4g}] n={e['repeats']}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("lines")
    p.add_argument("results")
    p.add_argument("--machine", default="")
    p.add_argument("--command", default="")
    p.add_argument("--mode", default="")
    args = p.parse_args()
    lines = [json.loads(line) for line in open(args.lines) if line.strip()]
    passes = pool_passes(lines)
    entries = [pooled(group) for group in passes.values()]
    for e in entries:
        e["check"] = bound_check(e)
        goal = GOALS.get(key(e))
        if goal:
            op, target = goal
            e["goal"] = f"{op} {target}"
            e["goal_verdict"] = goal_verdict(e, op, target)
            e["goal_met"] = e["goal_verdict"] == "met"
    failed = [e for e in entries
              if e["check"] != "ok" and not e["check"].startswith("not measured")]
    json.dump({"machine": args.machine, "command": args.command, "mode": args.mode,
               "figures": entries}, open(args.results, "w"), indent=1)
    print(f"{'figure':52} {'median':>11}  {'spread (min .. max, n)':30} unit / goal")
    for e in entries:
        goal = f"  [goal {e['goal']}: {e['goal_verdict']}]" if "goal" in e else ""
        check = ("" if e["check"] == "ok" else f"  ({e['check']})"
                 if e["check"].startswith("not measured") else f"  CHECK FAILED: {e['check']}")
        print(f"{key(e):52} {e['median']:11.4g}  {spread(e):30} {e['unit']}{goal}{check}")
    print(f"\n{len(entries)} figures in {args.results}; {len(failed)} failed checks")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
