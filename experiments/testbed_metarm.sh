#!/usr/bin/env bash
# VANILLA against first-order METARM on the testbed's own shift: the reward
# model learns from pairs of SFT samples (as the proxy of testbed_shift.sh),
# and METARM's meta set is the optimised policy's samples (best-of-32 picks
# against that proxy), as in the papers' first round. Accuracy is measured on
# held-out SFT pairs and on pairs of optimised-policy samples, with the gap
# diagnostic on held-out optimised-policy samples.
#   experiments/testbed_metarm.sh [--quick]    (--quick: 1 seed; timing in docs/testbed.md)
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh
seeds="1 2 3"
[[ "${1:-}" == "--quick" ]] && seeds="1"
task=${TASK:-sort}
out=runs/testbed_metarm_$task
rm -rf "$out"
mkdir -p "$out"
deploy/setup.sh
bazel_progress build build -c opt --ui_event_filters=-info,-stdout \
  //experiments:testbed_shift //trainer:metarm_train

configs=("VANILLA 0" "METARM 0.1" "METARM 1" "METARM_EXACT 0.1" "METARM_EXACT 1"
         "GAP_REGULARIZED 0.1" "GAP_REGULARIZED 0.5")
for seed in $seeds; do
  bazel-bin/experiments/testbed_shift --task="$task" --seed="$seed" \
    --data_dir="$out/data_$seed" >"$out/data_$seed.log"
  for config in "${configs[@]}"; do
    # The number is η for the METARM modes and λ for GAP_REGULARIZED.
    read -r mode eta <<<"$config"
    name="${mode}_eta${eta}_seed${seed}"
    cat >"$out/$name.pbtxt" <<JOB
name: "$name"
kind: REWARD_MODEL_ONLY
seed: $seed
output_dir: "$out/$name"
topology { learner_ranks: 2 rollout_ranks: 2 placement: COLOCATED }
task {
  name: "preference_file"
  train_pairs: "data_$seed/train_pairs.jsonl"
  eval_pairs: "data_$seed/eval_pairs.jsonl"
  shifted_pairs: "data_$seed/shifted_pairs.jsonl"
  meta_responses: "data_$seed/meta.jsonl"
  eval_responses: "data_$seed/eval_responses.jsonl"
  max_prompt_tokens: 16
  max_response_tokens: 12
}
reward_model { d_model: 64 n_layers: 2 n_heads: 4 max_seq_len: 32 }
reward_training {
  mode: $mode eta: $eta gap_lambda: $eta learning_rate: 1e-3
  batch_size: 32 meta_batch_size: 16 responses_per_prompt: 4 epochs: 2
}
JOB
    deploy/mpirun_local.sh -np 2 bazel-bin/trainer/metarm_train --job="$out/$name.pbtxt" >"$out/$name.log" 2>&1
    echo "done: $name"
  done
done
/usr/bin/python3 experiments/summarize_rm.py "$out" | tee "$out/summary.md"
