#!/usr/bin/env bash
# Learning-rate schedules and gradient clipping in a real RLHF run (2
# learners with sharded optimizer state + 1 rollout worker, 2 rounds): every
# logged rate (sft.jsonl per step, reward_steps.jsonl per step, metrics.jsonl
# per PPO iteration) equals the schedule computed here in Python from the
# job's fields; the warm-up starts again in each round's reward-model
# training; gradient norms are logged, and exceed the clipping limit where
# the test set it low; the run still learns (SFT loss falls).
set -uo pipefail
trainer=$1
mpirun_local=$2
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"

/usr/bin/python3 "$(dirname "$0")/e2e.py" job rlhf_tiny name=schedule seed=4 \
  output_dir="$work/out" learners=2 rollouts=1 task=sort sft_steps=30 \
  topology_extra="shard_optimizer_state: true" \
  sft_extra="learning_rate: 2e-3 schedule { warmup_steps: 5 decay: LINEAR min_lr_ratio: 0.1 max_grad_norm: 0.5 }" \
  reward_extra="learning_rate: 1e-3 schedule { warmup_steps: 3 decay: COSINE }" \
  ppo_extra="policy_learning_rate: 1e-4 value_learning_rate: 5e-4 schedule { warmup_steps: 2 decay: COSINE min_lr_ratio: 0.2 max_grad_norm: 0.1 }" \
  rounds=2 >"$work/job.pbtxt"
out=$(timeout --kill-after=5 300 "$mpirun_local" -np 3 "$trainer" \
  --job="$work/job.pbtxt" --threads_per_rank=1 2>&1)
code=$?
check "the scheduled run completes" test "$code" -eq 0
check "the SFT line names the largest gradient norm" has "largest gradient norm"

check "every logged rate is the schedule's" /usr/bin/python3 - "$work/out" <<'PY'
import json, math, sys
out = sys.argv[1]
rows = lambda name: [json.loads(l) for l in open(f"{out}/{name}")]

def rate(base, warmup, total, decay, floor, step):
    """The schedule, written from its definition (docs/job_spec.md)."""
    if step < warmup:
        return base * (step + 1) / warmup
    if decay == "CONSTANT" or total <= warmup:
        return base
    p = min(1.0, max(0.0, (step - warmup) / (total - warmup)))
    left = 1 - p if decay == "LINEAR" else (1 + math.cos(math.pi * p)) / 2
    return base * (floor + (1 - floor) * left)

def close(a, b):
    return abs(a - b) <= 1e-12 + 1e-9 * abs(b)

sft = rows("sft.jsonl")
assert [r["step"] for r in sft] == list(range(1, 31)), "30 SFT steps logged"
for i, r in enumerate(sft):
    want = rate(2e-3, 5, 30, "LINEAR", 0.1, i)
    assert close(r["learning_rate"], want), (i, r["learning_rate"], want)
    assert r["grad_norm"] > 0
assert max(r["grad_norm"] for r in sft) > 0.5, "the SFT limit clipped"
assert sft[-1]["loss"] < sft[0]["loss"], "SFT learns"

steps = rows("reward_steps.jsonl")
by_round = {}
for r in steps:
    by_round.setdefault(r["round"], []).append(r)
assert sorted(by_round) == [1, 2], sorted(by_round)
for rnd, rs in by_round.items():
    for i, r in enumerate(rs):
        want = rate(1e-3, 3, len(rs), "COSINE", 0.0, i)
        assert close(r["learning_rate"], want), (rnd, i, r["learning_rate"], want)
        assert r["grad_norm"] > 0
    assert close(rs[0]["learning_rate"], 1e-3 / 3), "the warm-up again each round"

metrics = rows("metrics.jsonl")
# rollout_batch_size 12, minibatch 4, 1 epoch: 3 steps an iteration;
# 2 rounds x 3 iterations.
per_iteration, total = 3, 2 * 3 * 3
assert len(metrics) == 6, len(metrics)
for n, r in enumerate(metrics):
    last = n * per_iteration + per_iteration - 1
    for key, base in (("policy_learning_rate", 1e-4), ("value_learning_rate", 5e-4)):
        want = rate(base, 2, total, "COSINE", 0.2, last)
        assert close(r[key], want), (n, key, r[key], want)
    assert r["policy_grad_norm"] > 0 and r["value_grad_norm"] > 0
assert max(r["value_grad_norm"] for r in metrics) > 0.1, "the PPO limit clipped"
print("schedules ok:", len(sft), "SFT steps,", len(steps), "reward steps,",
      len(metrics), "PPO iterations")
PY
finish_checks training_schedule
