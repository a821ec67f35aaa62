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

# write_job NAME SHARD ROUNDS [OUTPUT_NAME]
write_job() {
  cat >"$work/$1.pbtxt" <<JOB
name: "$1"
seed: 5
output_dir: "$work/out_${4:-$1}"
topology { learner_ranks: 3 rollout_ranks: 1 shard_optimizer_state: $2 }
task {
  name: "reverse" label_temperature: 0.1 num_train_prompts: 16
  num_preference_pairs: 96 num_eval_prompts: 24
  max_prompt_tokens: 16 max_response_tokens: 10
}
policy { d_model: 32 n_layers: 1 n_heads: 2 max_seq_len: 28 }
reward_model { d_model: 32 n_layers: 1 n_heads: 2 max_seq_len: 28 }
sft { steps: 20 batch_size: 12 }
reward_training {
  mode: METARM eta: 0.1 batch_size: 12 meta_batch_size: 3 responses_per_prompt: 4 epochs: 1
}
ppo { rollout_batch_size: 12 minibatch_size: 6 epochs: 1 iterations_per_round: 2 }
eval { num_prompts: 12 shifted_pairs: 12 }
rounds: $3
JOB
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
agree() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
def numbers(row, prefix=""):
    for k, v in row.items():
        if k == "seconds":
            continue
        if isinstance(v, dict):
            yield from numbers(v, prefix + k + "/")
        elif isinstance(v, (int, float)):
            yield prefix + k, v
worst, where = 0.0, ""
for f in ["metrics.jsonl", "rounds.jsonl"]:
    a = [json.loads(l) for l in open(sys.argv[1] + "/" + f)]
    b = [json.loads(l) for l in open(sys.argv[2] + "/" + f)]
    assert len(a) == len(b), (f, len(a), len(b))
    for ra, rb in zip(a, b):
        nb = dict(numbers(rb))
        for k, v in numbers(ra):
            if abs(v - nb[k]) > worst:
                worst, where = abs(v - nb[k]), f + ":" + k
print("largest difference", worst, where)
sys.exit(0 if worst <= 1e-5 else 1)
PY
}

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
