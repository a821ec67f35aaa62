#!/usr/bin/env bash
# Jobs that start from pretrained Hugging Face folders and a GPT-2 BPE
# tokenizer (made by model/testdata/make_tiny_models.py), on real MPI ranks: an
# RLHF job with a GPT-2 policy and a Llama reward model, and a
# REWARD_MODEL_ONLY job on the HH-RLHF slice; each exports its trained models,
# which an independent reader and forward pass then check. And the refusals:
# a checkpoint whose vocabulary is too small for the tokenizer, a folder
# without config.json.
set -uo pipefail
trainer=$1
mpirun_local=$2
make_models=$3
check_export=$4
train_sentencepiece=$5
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }
hf="$work/hf"
/usr/bin/python3 "$make_models" "$hf"

cat >"$work/rlhf.pbtxt" <<JOB
name: "pretrained_rlhf"
seed: 3
output_dir: "$work/rlhf"
topology { learner_ranks: 1 rollout_ranks: 1 }
task {
  name: "sort" tokenizer: "$hf/bpe" label_temperature: 0.1
  num_train_prompts: 16 num_preference_pairs: 64 num_eval_prompts: 16
  max_prompt_tokens: 12 max_response_tokens: 10
}
policy { checkpoint: "$hf/gpt2_job" export_hf: true }
reward_model { checkpoint: "$hf/llama_job" export_hf: true }
sft { steps: 5 batch_size: 8 }
reward_training {
  mode: METARM batch_size: 8 meta_batch_size: 4 responses_per_prompt: 2
  epochs: 1
}
ppo {
  rollout_batch_size: 8 minibatch_size: 4 epochs: 1 iterations_per_round: 2
}
eval { num_prompts: 8 shifted_pairs: 8 }
rounds: 1
JOB
out=$(timeout --kill-after=5 300 "$mpirun_local" -np 2 "$trainer" --job="$work/rlhf.pbtxt" 2>&1)
code=$?
check "RLHF from GPT-2 + Llama checkpoints exits 0" test "$code" -eq 0
check "RLHF writes rounds 0 and 1" test "$(wc -l <"$work/rlhf/rounds.jsonl" 2>/dev/null)" -eq 2
check "exported policy is GPT-2 and trained" /usr/bin/python3 "$check_export" "$work/rlhf/policy_hf" "$hf/gpt2_job" gpt2
# The reward model's export adds its scalar head ("score"); compare the trunk.
check "exported reward model is Llama with a score head" e2e llama_reward_export "$work/rlhf/reward_model_hf"

# The repository's HH-RLHF slice (a data dependency; runfiles are relative to
# the workspace root, the test's working folder).
hh="$PWD/data/hh-rlhf/harmless-base-test.jsonl.gz"
cat >"$work/rm.pbtxt" <<JOB
name: "pretrained_rm"
kind: REWARD_MODEL_ONLY
seed: 4
output_dir: "$work/rm"
topology { learner_ranks: 2 rollout_ranks: 1 }
task {
  name: "preference_file" train_pairs: "$hh" tokenizer: "$hf/bpe"
  max_prompt_tokens: 24 max_response_tokens: 24
}
reward_model { checkpoint: "$hf/llama_job" export_hf: true }
reward_training { mode: VANILLA batch_size: 64 epochs: 1 learning_rate: 1e-3 }
JOB
out=$(timeout --kill-after=5 300 "$mpirun_local" -np 3 "$trainer" --job="$work/rm.pbtxt" 2>&1)
code=$?
check "reward model on HH-RLHF with the BPE tokenizer exits 0" test "$code" -eq 0
check "HH-RLHF epoch logged" test -s "$work/rm/reward_model.jsonl"
check "HH-RLHF reward model exported" test -s "$work/rm/reward_model_hf/model.safetensors"

# A SentencePiece tokenizer trained here on the slice's text, named by path.
e2e chosen_texts "$hh" "$work/hh.txt"
"$train_sentencepiece" --input="$work/hh.txt" --model_prefix="$work/hh" \
    --options="--vocab_size=600 --model_type=bpe --byte_fallback=true --minloglevel=2" >/dev/null
check "SentencePiece model trained" test -s "$work/hh.model"
sed -e "s|pretrained_rm|pretrained_rm_spm|" -e "s|$work/rm\"|$work/rm_spm\"|" \
    -e "s|tokenizer: \"$hf/bpe\"|tokenizer: \"$work/hh.model\"|" \
    -e "s|learner_ranks: 2|learner_ranks: 1|" "$work/rm.pbtxt" >"$work/rm_spm.pbtxt"
out=$(timeout --kill-after=5 300 "$mpirun_local" -np 2 "$trainer" --job="$work/rm_spm.pbtxt" 2>&1)
code=$?
check "reward model on HH-RLHF with the SentencePiece tokenizer exits 0" test "$code" -eq 0
check "SentencePiece job logged its epoch" test -s "$work/rm_spm/reward_model.jsonl"

# A vocabulary too small for the tokenizer: the models start from it never.
sed -e "s|pretrained_rlhf|small_vocab|" -e "s|$work/rlhf|$work/small|" \
    -e "s|tokenizer: \"$hf/bpe\"|tokenizer: \"byte\"|" "$work/rlhf.pbtxt" >"$work/small.pbtxt"
sed -i "s|\"$hf/gpt2_job\"|\"$hf/gpt2\"|" "$work/small.pbtxt"
out=$(timeout --kill-after=5 120 "$mpirun_local" -np 2 "$trainer" --job="$work/small.pbtxt" 2>&1)
code=$?
check "too small a vocabulary exits 2" test "$code" -eq 2
check "too small a vocabulary named" has "policy.checkpoint: $hf/gpt2/config.json: vocab_size 64 is smaller than the tokenizer's 259 (task.tokenizer)"

mkdir -p "$work/empty"
sed -e "s|\"$hf/gpt2_job\"|\"$work/empty\"|" "$work/rlhf.pbtxt" >"$work/empty.pbtxt"
out=$(timeout --kill-after=5 60 "$mpirun_local" -np 1 "$trainer" --job="$work/empty.pbtxt" --validate_only 2>&1)
code=$?
check "checkpoint folder without config.json exits 2" test "$code" -eq 2
check "missing config.json named" has "job error: policy.checkpoint: no such file: $work/empty/config.json"

finish_checks pretrained_job
