#!/usr/bin/env bash
# Reward models on the toy shift set (experiments/make_toy_shift.py): VANILLA
# against first-order METARM at several eta, same seeds and settings, and a
# table of what each reached: accuracy on held-out original pairs, accuracy on
# shifted pairs, and the reward gaps on held-out shifted responses.
#   experiments/rm_toy_shift.sh [--quick]     (--quick: 1 seed; timing in docs/reward_model.md)
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh
seeds="1 2 3"
[[ "${1:-}" == "--quick" ]] && seeds="1"
out=runs/rm_toy_shift
rm -rf "$out"
mkdir -p "$out"

deploy/setup.sh
bazel_progress build build -c opt --ui_event_filters=-info,-stdout //trainer:metarm_train
trainer=bazel-bin/trainer/metarm_train

configs=("VANILLA 0" "METARM 0" "METARM 0.01" "METARM 0.1" "METARM 0.3"
         "METARM_EXACT 0.1" "METARM_EXACT 0.3" "GAP_REGULARIZED 0.1" "GAP_REGULARIZED 0.5")
for seed in $seeds; do
  /usr/bin/python3 experiments/make_toy_shift.py "$out/data_$seed" --pairs 2000 --k 4 --seed "$seed"
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
  train_pairs: "data_$seed/train.jsonl"
  eval_pairs: "data_$seed/eval.jsonl"
  shifted_pairs: "data_$seed/shifted.jsonl"
  meta_responses: "data_$seed/meta.jsonl"
  eval_responses: "data_$seed/eval_responses.jsonl"
  max_prompt_tokens: 12
  max_response_tokens: 24
}
reward_model { d_model: 32 n_layers: 2 n_heads: 4 max_seq_len: 40 }
reward_training {
  mode: $mode eta: $eta gap_lambda: $eta learning_rate: 2e-3
  batch_size: 32 meta_batch_size: 16 responses_per_prompt: 4 epochs: 3
}
JOB
    deploy/mpirun_local.sh -np 2 "$trainer" --job="$out/$name.pbtxt" >"$out/$name.log" 2>&1
    echo "done: $name"
  done
done
/usr/bin/python3 experiments/summarize_rm.py "$out" | tee "$out/summary.md"
