#!/usr/bin/env bash
# Micro-batches and activation checkpointing in a real RLHF run (2 learners
# + 1 rollout worker, 2 rounds, METARM): the same job with every phase's
# micro-batches set (SFT 3 of a learner's 8 sequences, reward pairs 3 of 8
# and meta prompts 1 of 2, PPO 1 of 2) and both models' activations
# recomputed runs to the end, and its SFT steps (the same data, no sampling)
# log the losses and gradient norms of the plain run within float32
# rounding. The same job in bf16, stopped by SIGUSR1 to mpirun after its
# first PPO iteration and run again, ends as its uninterrupted run did, bit
# for bit. The float64 equality of the steps themselves is tested in
# tests/{sft,reward_data_parallel,ppo_learner}_mpi_test.cc.
set -uo pipefail
trainer=$1
mpirun_local=$2
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"

e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }
make_job() {  # make_job NAME SFT_EXTRA REWARD_EXTRA PPO_EXTRA [SED]
  e2e job rlhf_tiny name="$1" seed=6 \
    output_dir="$work/$1" learners=2 rollouts=1 task=sort sft_steps=20 \
    sft_extra="$2" reward_extra="$3" ppo_extra="$4" \
    extra="logging { progress: false tensorboard: false }" |
    sed -e "${5:-}" >"$work/$1.pbtxt"
}
make_job whole "" "" ""
make_job micro "micro_batch_size: 3" \
  "micro_batch_size: 3 meta_micro_batch_size: 1" "micro_batch_size: 1" \
  "s/max_seq_len: 28 }/max_seq_len: 28 activation_checkpointing: true }/"
check "both models are checkpointed in the micro job" \
  test "$(grep -c 'activation_checkpointing: true' "$work/micro.pbtxt")" -eq 2
for name in whole micro; do
  out=$(timeout --kill-after=5 300 "$mpirun_local" -np 3 "$trainer" \
    --job="$work/$name.pbtxt" --threads_per_rank=1 2>&1)
  code=$?
  check "the $name run completes" test "$code" -eq 0
  check "the $name run logs both rounds" test "$(wc -l <"$work/$name/rounds.jsonl")" -eq 3
done

check "the SFT steps agree with and without micro-batches and checkpointing" /usr/bin/python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
rows = lambda run: [json.loads(l) for l in open(f"{work}/{run}/sft.jsonl")]
whole, micro = rows("whole"), rows("micro")
assert len(whole) == len(micro) == 20, (len(whole), len(micro))
worst = 0.0
for a, b in zip(whole, micro):
    for key in ("loss", "grad_norm"):
        worst = max(worst, abs(a[key] - b[key]) / max(abs(a[key]), 1e-12))
print(f"largest relative difference over 20 SFT steps: {worst:.2e}")
assert worst < 1e-4, worst
assert whole[-1]["loss"] < whole[0]["loss"], "SFT learns"
PY

# --- bf16 with micro-batches and checkpointing: stopped and resumed. -------
bf16_sed="s/max_seq_len: 28 }/max_seq_len: 28 activation_checkpointing: true precision: BF16 }/"
for name in bf16 bf16_stopped; do
  make_job "$name" "micro_batch_size: 3" \
    "micro_batch_size: 3 meta_micro_batch_size: 1" "micro_batch_size: 1" "$bf16_sed"
done
check "both models are bf16" test "$(grep -c 'precision: BF16' "$work/bf16.pbtxt")" -eq 2
timeout --kill-after=5 300 "$mpirun_local" -np 3 "$trainer" --job="$work/bf16.pbtxt" \
  --threads_per_rank=1 >"$work/bf16.log" 2>&1
check "the uninterrupted bf16 run completes" test "$?" -eq 0
( timeout --kill-after=5 300 "$mpirun_local" -np 3 "$trainer" \
    --job="$work/bf16_stopped.pbtxt" --threads_per_rank=1 >"$work/stopped.log" 2>&1
  echo $? >"$work/stopped.code" ) &
for _ in $(seq 600); do
  [[ -s "$work/bf16_stopped/metrics.jsonl" ]] && break
  sleep 0.05
done
kill -USR1 $(job_pids "$work/bf16_stopped.pbtxt" mpirun)
wait
echo "stopped: $(grep -o 'stopped by SIGUSR1.*' "$work/stopped.log")"
check "SIGUSR1: the bf16 run stops with exit 3" test "$(cat "$work/stopped.code")" -eq 3
timeout --kill-after=5 300 "$mpirun_local" -np 3 "$trainer" --job="$work/bf16_stopped.pbtxt" \
  --threads_per_rank=1 >"$work/resumed.log" 2>&1
check "the resumed bf16 run completes" test "$?" -eq 0
check "the resumed bf16 run ends as the uninterrupted one, bit for bit" \
  e2e same "$work/bf16" "$work/bf16_stopped" metrics.jsonl rounds.jsonl \
  reward_model.jsonl reward_steps.jsonl eval_samples.jsonl sft.jsonl
check "and with the same policy weights" cmp -s "$work/bf16/policy.pt" "$work/bf16_stopped/policy.pt"

finish_checks micro_batch
