#!/usr/bin/env bash
# topology.shard_optimizer_state (ZeRO stage 1) in whole RLHF jobs on real MPI
# ranks: 3 learners + 1 rollout worker, METARM, SFT, two rounds. The sharded
# run gives the numbers of the unsharded run; a run saved sharded after round
# 1 resumes unsharded (the checkpoints have one format) and ends with the
# numbers of the uninterrupted run; the layout table names the setting.
set -uo pipefail
trainer=$1
mpirun_local=$2
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"

e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }

# write_job NAME SHARD ROUNDS [OUTPUT_NAME]
write_job() {
  e2e job rlhf_tiny name="$1" seed=5 output_dir="$work/out_${4:-$1}" \
    learners=3 rollouts=1 topology_extra="shard_optimizer_state: $2" \
    pairs=96 eval_prompts=24 sft_steps=20 batch=12 meta_batch=3 \
    minibatch=6 iterations=2 eval_n=12 rounds="$3" >"$work/$1.pbtxt"
}

run() {  # run JOB [FLAGS...]
  local job=$1
  shift
  out=$(timeout --kill-after=5 300 "$mpirun_local" -np 4 "$trainer" --job="$work/$job.pbtxt" --threads_per_rank=1 "$@" 2>&1)
  code=$?
}

# agree DIR_A DIR_B: every number of metrics.jsonl and rounds.jsonl within
# 1e-5 (the sums of three learners' gradients are added in another order by
# the reduce-scatter than by the all-reduce: float32 rounding, which Adam can
# turn into small steps; prints the largest difference, 8.3e-7 when this
# test was written).
agree() { e2e agree "$1" "$2" 1e-5; }

write_job replicated false 2
write_job sharded true 2
run replicated
check "unsharded run exits 0" test "$code" -eq 0
run sharded
check "sharded run exits 0" test "$code" -eq 0
check "layout names the sharding" has "optimizer state sharded over 3 learners"
check "sharded equals unsharded" agree "$work/out_replicated" "$work/out_sharded"

# Round 1 sharded, then round 2 unsharded from its checkpoint.
write_job half_sharded true 1 resumed
write_job half_replicated false 2 resumed
run half_sharded
check "sharded round 1 exits 0" test "$code" -eq 0
run half_replicated
check "unsharded resume exits 0" test "$code" -eq 0
check "it resumed" has "metarm: resuming from the checkpoint"
check "resumed equals uninterrupted" agree "$work/out_replicated" "$work/out_resumed"

finish_checks sharded_job
