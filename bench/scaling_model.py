#!/usr/bin/env python3
"""An alpha-beta model of one PPO iteration of metarm.

Two uses, one model (docs/scaling.md explains every term):
- predict_point(): one sweep point's iteration on the machine it ran on,
  from constants measured there (bench/calibrate.py: the learner's achieved
  FLOP rate, the generation cost per token, alpha and beta);
  experiments/scaling/sweep.py puts it beside each measured point;
- main(): G GPUs (half learners, half rollout workers, 8 a node), projecting
  iteration time and weak-scaling efficiency from 8 to 1,024 GPUs for 1B and
  7B models, from spec-sheet constants and an assumed MFU.

    scaling_model.py [--results bench/out/results.json] [--calibration cal.json]

With --results, this machine's alpha and beta from bench/run.sh are printed
for scale; with --calibration, the constants calibrate.py measured (and a
GPU's measured MFU, when the calibration has one, replaces the assumed 0.40).
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


# One PPO update of a sequence costs 7 forward passes' worth (the critic's
# old values, then policy and critic forward + backward, bench/flops.h);
# scoring a sequence on a rollout worker costs 3 (old and reference
# log-probabilities, the reward model's score).
SCORING_SHARE_OF_UPDATE = 3 / 7


def ring_allreduce_measured(bytes_, p, alpha, bus_bandwidth):
    """A ring all-reduce with measured alpha (s) and bus bandwidth (bytes/s,
    nccl-tests' busbw: algorithm bandwidth x 2(p-1)/p)."""
    if p <= 1:
        return 0.0
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * bytes_ / bus_bandwidth


def broadcast_measured(bytes_, p, alpha, bandwidth):
    """A pipelined broadcast from one rank to p - 1 others with measured alpha
    (s) and link bandwidth (bytes/s): the bytes cross each link once."""
    if p <= 1:
        return 0.0
    return (p - 1) * alpha + bytes_ / bandwidth


def calibration_key_of(facts):
    """(d_model, layers, tokens, batch, new_tokens) of the benchmark run that
    calibrates a point: its policy, its longest sequence, and a batch of two
    of its per-learner minibatches (the benchmark's PPO update takes two
    minibatch steps), so that the timed GEMMs have the point's shapes."""
    policy = facts["policy"]
    minibatch = max(1, facts["minibatch_size"] // facts["learner_ranks"])
    return (policy["d_model"], policy["n_layers"],
            facts["max_prompt_tokens"] + facts["max_response_tokens"],
            2 * minibatch, facts["max_response_tokens"])


def calibration_shape(facts, calibration):
    from calibrate import shape_key  # bench/calibrate.py, beside this file
    key = shape_key(*calibration_key_of(facts))
    if key not in calibration["shapes"]:
        raise KeyError(f"no calibration for the shape {key}")
    return calibration["shapes"][key]


def predict_point(facts, calibration, cores):
    """Seconds of one PPO iteration of a sweep point, by phase, as learner 0
    sees it (metrics.jsonl): generation and scoring on the busiest rollout
    worker, learning (PPO epochs and the gradient all-reduce), weight sync.

    Each phase runs at the busy ranks' share of the machine: the benchmarks
    ran on one thread; a rank has max(1, cores // world_size) threads
    (cluster/threads.h) and, when more ranks are busy than there are cores,
    cores / busy ranks of them. Busy: the rollout workers while they generate
    and score, the learners while they learn (mpirun oversubscribed yields the
    core of a rank waiting in MPI), all of them when stale rollouts overlap
    the two. Generation scales with the tokens, scoring and learning with the
    sequences (FLOPs per sequence fixed by the shape)."""
    shape = calibration_shape(facts, calibration)
    learners, rollouts = facts["learner_ranks"], facts["rollout_ranks"]
    world = facts["world_size"]
    colocated = facts["placement"] == "COLOCATED"
    batch = facts["rollout_batch_size"]
    threads = max(1, cores // world)
    overlapped = facts["max_staleness"] > 0 or colocated

    def speed(busy):
        return min(threads, cores / (world if overlapped else busy))

    per_sequence = (shape["ppo_update_seconds"]["median"] /
                    shape["ppo_update_batch"])
    generated = batch / rollouts
    tokens_per_second = shape["generation_tokens_per_second"]["median"]
    collectives = calibration["collectives"]
    alpha = collectives["alpha_seconds"]["median"]
    beta = collectives["bus_bandwidth_bytes_per_second"]["median"]
    policy_bytes = 4 * facts["policy"]["parameters"]
    critic_bytes = 4 * facts["policy"]["critic_parameters"]
    steps = facts["ppo_epochs"] * batch / facts["minibatch_size"]
    generation = (generated * facts["max_response_tokens"] / tokens_per_second /
                  speed(rollouts))
    scoring = SCORING_SHARE_OF_UPDATE * per_sequence * generated / speed(rollouts)
    allreduce = steps * ring_allreduce_measured(
        policy_bytes + critic_bytes, learners, alpha, beta)
    learning = (facts["ppo_epochs"] * batch / learners * per_sequence /
                speed(learners) + allreduce)
    # The policy's weights from learner 0 to the rollout workers, pipelined.
    sync = 0.0 if colocated else broadcast_measured(policy_bytes, rollouts + 1,
                                                    alpha, beta)
    if overlapped and not colocated:
        iteration = max(generation + scoring, learning) + sync
    else:
        iteration = generation + scoring + learning + sync
    return dict(generation=generation, scoring=scoring, learning=learning,
                allreduce=allreduce, weight_sync=sync, iteration=iteration)


def print_calibration(calibration):
    print(f"\nThis machine's constants ({calibration['machine_cores']} cores, "
          f"bench/calibrate.py, one thread):")
    for key, shape in calibration["shapes"].items():
        print(f"  {key}: GEMM peak "
              f"{shape['gemm_peak_flops_per_second']['median'] / 1e9:.1f} GFLOP/s, "
              f"learner {shape['learner_flops_per_second']['median'] / 1e9:.1f} "
              f"GFLOP/s (PPO update MFU {shape['ppo_update_mfu']['median']:.2f}), "
              f"generation {shape['generation_tokens_per_second']['median']:.0f} tokens/s")
    c = calibration["collectives"]
    print(f"  all-reduce over {c['ranks']} ranks: alpha "
          f"{c['alpha_seconds']['median'] * 1e6:.2f} us, bus bandwidth "
          f"{c['bus_bandwidth_bytes_per_second']['median'] / 1e9:.2f} GB/s")


def main():
    global MFU
    p = argparse.ArgumentParser()
    p.add_argument("--results", default="")
    p.add_argument("--calibration", default="")
    args = p.parse_args()
    calibration = json.load(open(args.calibration)) if args.calibration else None
    mfu_source = "assumed"
    if calibration and "gpu_mfu" in calibration:
        MFU = calibration["gpu_mfu"]
        mfu_source = "measured"
    print("H100 SXM: %.0f TFLOP/s bf16 at MFU %.2f (%s); spec sheet: HBM %.2f TB/s, "
          "NVLink %.0f GB/s and IB %.0f GB/s per GPU; assumed: links at %.0f%%, "
          "alpha %.0f/%.0f us"
          % (PEAK_FLOPS / 1e12, MFU, mfu_source, HBM_BYTES_PER_S / 1e12,
             NVLINK_BYTES_PER_S / 1e9, IB_BYTES_PER_S / 1e9, LINK_EFFICIENCY * 100,
             ALPHA_NVLINK * 1e6, ALPHA_IB * 1e6))
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


    if calibration:
        print_calibration(calibration)


if __name__ == "__main__":
    main()
