#!/usr/bin/env python3
"""An alpha-beta model of one PPO iteration of metarm on G GPUs (half
learners, half rollout workers, 8 GPUs a node), projecting iteration time
and weak-scaling efficiency from 8 to 1,024 GPUs for 1B and 7B models.
docs/scaling.md explains every assumption; this script is its arithmetic.

    scaling_model.py [--results bench/out/results.json]

With --results, this machine's measured alpha and beta (bench/run.sh) are
printed beside the assumed GPU ones, for scale.
"""
import argparse
import json
import math

# Hardware: NVIDIA H100 SXM spec sheet values (dense BF16, HBM3, NVLink 4)
# and one ConnectX-7 NDR port (400 Gb/s) per GPU.
PEAK_FLOPS = 989e12
HBM_BYTES_PER_S = 3.35e12
NVLINK_BYTES_PER_S = 450e9   # per direction per GPU
IB_BYTES_PER_S = 50e9        # per GPU (one 400 Gb/s port)
# Assumptions (not measured here): fractions of those rates reached.
MFU = 0.40                   # training and scoring matmuls
LINK_EFFICIENCY = 0.80       # collectives' share of link bandwidth
ALPHA_NVLINK = 10e-6         # seconds per collective step within a node
ALPHA_IB = 20e-6             # seconds per collective step across nodes
GPUS_PER_NODE = 8

# The workload per iteration, per GPU (weak scaling).
SEQUENCES_PER_ROLLOUT_GPU = 64
PROMPT_TOKENS, RESPONSE_TOKENS = 256, 256
PPO_EPOCHS = 1
BYTES_PER_PARAM = 2          # bf16 weights and gradients


def link(p):
    """(alpha, beta) of the slowest link a ring over p GPUs crosses: NVLink
    within one node, InfiniBand beyond."""
    inside = p <= GPUS_PER_NODE
    beta = (NVLINK_BYTES_PER_S if inside else IB_BYTES_PER_S) * LINK_EFFICIENCY
    alpha = ALPHA_NVLINK if inside else ALPHA_IB
    return alpha, beta


def ring_allreduce(bytes_, p):
    if p <= 1:
        return 0.0
    alpha, beta = link(p)
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * bytes_ / beta


def broadcast(bytes_, p):
    """Pipelined (ring) broadcast: the bytes cross each link once."""
    if p <= 1:
        return 0.0
    alpha, beta = link(p)
    return (p - 1) * alpha + bytes_ / beta


def iteration(n_params, gpus):
    learners = rollouts = gpus // 2
    weights = n_params * BYTES_PER_PARAM
    tokens = SEQUENCES_PER_ROLLOUT_GPU * (PROMPT_TOKENS + RESPONSE_TOKENS)
    # Decoding is memory-bound: every new token reads the weights once.
    generation = RESPONSE_TOKENS * weights / HBM_BYTES_PER_S
    # Old log-probs, reference log-probs and the reward: 3 forward passes.
    scoring = 3 * 2 * n_params * tokens / (PEAK_FLOPS * MFU)
    # Each learner gets as many sequences as a rollout worker made; policy
    # and critic, forward + backward (6N per token each).
    learning = PPO_EPOCHS * 2 * 6 * n_params * tokens / (PEAK_FLOPS * MFU)
    allreduce = PPO_EPOCHS * 2 * ring_allreduce(weights, learners)  # policy + critic
    sync = broadcast(weights, rollouts + 1)
    total = generation + scoring + learning + allreduce + sync
    return dict(generation=generation, scoring=scoring, learning=learning,
                allreduce=allreduce, weight_sync=sync, total=total)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--results", default="")
    args = p.parse_args()
    print("Assumed: H100 SXM %.0f TFLOP/s bf16 at MFU %.2f, HBM %.2f TB/s, "
          "NVLink %.0f GB/s and IB %.0f GB/s per GPU at %.0f%%, alpha %.0f/%.0f us"
          % (PEAK_FLOPS / 1e12, MFU, HBM_BYTES_PER_S / 1e12, NVLINK_BYTES_PER_S / 1e9,
             IB_BYTES_PER_S / 1e9, LINK_EFFICIENCY * 100, ALPHA_NVLINK * 1e6,
             ALPHA_IB * 1e6))
    for name, n in (("1B", 1.0e9), ("7B", 6.7e9)):
        base = iteration(n, 8)["total"]
        print(f"\n{name} parameters, {SEQUENCES_PER_ROLLOUT_GPU} sequences of "
              f"{PROMPT_TOKENS}+{RESPONSE_TOKENS} tokens per rollout GPU")
        print(f"{'GPUs':>6} {'generation':>11} {'scoring':>9} {'learning':>9} "
              f"{'all-reduce':>11} {'sync':>7} {'iteration':>10} {'efficiency':>11}")
        for gpus in (8, 16, 64, 256, 1024):
            t = iteration(n, gpus)
            print(f"{gpus:6d} {t['generation']:11.3f} {t['scoring']:9.3f} "
                  f"{t['learning']:9.3f} {t['allreduce']:11.3f} {t['weight_sync']:7.3f} "
                  f"{t['total']:10.3f} {base / t['total']:11.1%}")
    if args.results:
        figures = {f["name"]: f for f in json.load(open(args.results))["figures"]}
        a = figures.get("allreduce_latency_seconds")
        b = figures.get("allreduce_bus_bandwidth")
        if a and b:
            print(f"\nThis machine (MPI over shared memory, 2 ranks): alpha "
                  f"{a['value'] * 1e6:.1f} us, bus bandwidth {b['value']:.2f} GB/s")


if __name__ == "__main__":
    main()
