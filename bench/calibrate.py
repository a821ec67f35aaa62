#!/usr/bin/env python3
"""The constants the alpha-beta model (bench/scaling_model.py) needs, measured
on this machine with the benchmarks, for the model shapes a sweep uses:

- per shape (d_model, layers, tokens per sequence, batch): the PPO update's
  seconds and MFU against the GEMM peak measured beside it (the learner's
  achieved FLOP rate = MFU x peak), and generation tokens/s with the KV cache
  (bench/learner_bench.cc, one thread: the model scales it by the threads a
  rank gets);
- alpha (the latency of an all-reduce of one value) and the bus bandwidth of
  a 64 MB all-reduce (bench/comm_bench.cc under mpirun -np 2).

Every figure keeps its median, min and max (bench/figure.h).

    calibrate.py --bench_dir bazel-bin/bench --shape 64,2,28,32,12 --out cal.json

A shape is d_model,layers,tokens,batch,new_tokens. About 5 s a shape and 3 s
for the collectives at the quickstart's size.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MPIRUN = os.path.join(HERE, "..", "deploy", "mpirun_local.sh")


def figures(lines):
    out = {}
    for line in lines.splitlines():
        line = line.strip()
        if line.startswith("{"):
            figure = json.loads(line)
            out[figure["name"]] = figure
    return out


def run(command):
    started = time.time()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"calibrate.py: {' '.join(command)} exited {done.returncode}:\n"
                 f"{done.stderr[-2000:]}")
    return done.stdout, time.time() - started


def spread(figure, scale=1.0):
    return {"median": figure["value"] * scale, "min": figure["min"] * scale,
            "max": figure["max"] * scale, "repeats": figure["repeats"]}


def shape_key(d_model, layers, tokens, batch, new_tokens):
    return f"d{d_model}_l{layers}_t{tokens}_b{batch}_n{new_tokens}"


def calibrate_shape(bench_dir, d_model, layers, tokens, batch, new_tokens,
                    repeats):
    command = [os.path.join(bench_dir, "metarm_learner_bench"),
               f"--sizes={d_model}", f"--layers={layers}", f"--seq={tokens}",
               f"--batch={batch}", f"--new_tokens={new_tokens}",
               f"--speedup_tokens={max(1, min(4, new_tokens))}",
               f"--repeats={repeats}", "--threads=1", "--gemm=512"]
    stdout, seconds = run(command)
    f = figures(stdout)
    peak = f["gemm_peak"]["value"] * 1e9
    mfu = f["ppo_update_mfu"]
    return {
        "command": " ".join(command), "seconds": round(seconds, 1),
        "ppo_update_batch": batch, "tokens": tokens,
        "ppo_update_seconds": spread(f["ppo_update_seconds"]),
        "ppo_update_mfu": spread(mfu),
        "gemm_peak_flops_per_second": spread(f["gemm_peak"], 1e9),
        "learner_flops_per_second": {"median": mfu["value"] * peak},
        "generation_tokens_per_second":
            spread(f["generation_kv_cache_tokens_per_second"]),
        "checks": sorted({x["check"] for x in f.values()}),
    }


def calibrate_collectives(bench_dir, d_model, layers, repeats):
    command = [MPIRUN, "-np", "2", os.path.join(bench_dir, "metarm_comm_bench"),
               f"--d_model={d_model}", f"--layers={layers}",
               f"--repeats={repeats}"]
    stdout, seconds = run(command)
    f = figures(stdout)
    return {
        "command": " ".join(command), "seconds": round(seconds, 1), "ranks": 2,
        "alpha_seconds": spread(f["allreduce_latency_seconds"]),
        "bus_bandwidth_bytes_per_second": spread(f["allreduce_bus_bandwidth"], 1e9),
    }


def calibrate(bench_dir, shapes, repeats=3):
    """shapes: (d_model, layers, tokens, batch, new_tokens) tuples."""
    result = {"machine_cores": os.cpu_count(), "threads": 1, "shapes": {}}
    for shape in sorted(set(shapes)):
        result["shapes"][shape_key(*shape)] = calibrate_shape(
            bench_dir, *shape, repeats)
    largest = max(shapes)
    result["collectives"] = calibrate_collectives(
        bench_dir, largest[0], largest[1], repeats)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bench_dir", required=True)
    p.add_argument("--shape", action="append", required=True,
                   help="d_model,layers,tokens,batch,new_tokens")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    try:
        shapes = [tuple(int(x) for x in s.split(",")) for s in args.shape]
        if any(len(s) != 5 or min(s) < 1 for s in shapes):
            raise ValueError
    except ValueError:
        print("calibrate.py: --shape takes five positive integers: "
              "d_model,layers,tokens,batch,new_tokens", file=sys.stderr)
        return 2
    result = calibrate(args.bench_dir, shapes, args.repeats)
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(args.out + ".tmp", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
