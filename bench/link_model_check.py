#!/usr/bin/env python3
"""The alpha-beta model of bench/scaling_model.py against collectives measured
through a link of known bandwidth: bench/comm_bench.cc's JSON lines from two
ranks on two nodes whose links are capped at RATE Mbit/s (the test cluster
of tests/cluster/, run by tests/multinode_test.sh).

    link_model_check.py --rate_mbit RATE [--tolerance 0.1] LINES.jsonl

beta is the cap's payload rate: the cap counts whole Ethernet frames (1514
bytes), of which TCP over IPv4 with timestamps carries 1448. alpha is the
benchmark's own (an all-reduce of one float64, through the same link).
Prints, per figure, the measured median with its range, the model's
prediction and the error; exit 1 if a figure's median misses the model by
more than the tolerance: the weight sync (one flat broadcast, and the
trainer's bucketed one), the gradient all-reduce (flat, and the trainer's
packed one), and the 64 MB all-reduce's bus bandwidth against beta.
"""
import argparse
import json
import sys

from scaling_model import broadcast_measured, ring_allreduce_measured

PAYLOAD_PER_FRAME = 1448 / 1514


def read_figures(path):
    figures = {}
    with open(path) as lines:
        for line in lines:
            if line.strip():
                figure = json.loads(line)
                figures[figure["name"]] = figure
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate_mbit", type=float, required=True)
    parser.add_argument("--tolerance", type=float, default=0.1)
    parser.add_argument("lines")
    args = parser.parse_args()
    figures = read_figures(args.lines)
    beta = args.rate_mbit * 1e6 / 8 * PAYLOAD_PER_FRAME
    alpha = figures["allreduce_latency_seconds"]["median"]
    ranks = figures["weight_sync_flat_bcast_seconds"]["shapes"]["ranks"]
    size = figures["weight_sync_flat_bcast_seconds"]["shapes"]["bytes"]
    broadcast = broadcast_measured(size, ranks, alpha, beta)
    allreduce = ring_allreduce_measured(size, ranks, alpha, beta)
    checks = [  # (figure, its value by the model)
        ("weight_sync_flat_bcast_seconds", broadcast),
        ("weight_sync_bucketed_seconds", broadcast),
        ("grad_allreduce_flat_seconds", allreduce),
        ("grad_allreduce_packed_seconds", allreduce),
        ("allreduce_bus_bandwidth", beta / 1e9),
    ]
    print(f"link capped at {args.rate_mbit:g} Mbit/s: beta {beta / 1e6:.2f} MB/s "
          f"(TCP payload), alpha {alpha * 1e6:.1f} us (measured), "
          f"{ranks} ranks, {size} bytes")
    print(f"{'figure':34} {'median':>9} {'min':>9} {'max':>9} "
          f"{'model':>9} {'error':>7}")
    failed = 0
    for name, predicted in checks:
        figure = figures[name]
        error = figure["median"] / predicted - 1
        verdict = "" if abs(error) <= args.tolerance else "  beyond tolerance"
        failed += bool(verdict)
        print(f"{name:34} {figure['median']:9.4g} {figure['min']:9.4g} "
              f"{figure['max']:9.4g} {predicted:9.4g} "
              f"{error:+7.1%}{verdict}")
    print(f"{len(checks) - failed} of {len(checks)} within "
          f"{args.tolerance:.0%} of the model")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
