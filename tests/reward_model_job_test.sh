#!/usr/bin/env bash
# metarm_train with REWARD_MODEL_ONLY jobs on real MPI ranks: 1 to 4 learners,
# VANILLA and METARM, on a generated preference set whose labels a model can
# learn; and bad data stopping every rank with exit code 2.
set -uo pipefail
trainer=$1
mpirun_local=$2
generator=$3
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }


/usr/bin/python3 "$generator" "$work/data" --pairs 640 --k 4 --seed 3

# write_job NAME MODE PLACEMENT LEARNERS ROLLOUTS [TRAIN_FILE]
write_job() {
  cat >"$work/$1.pbtxt" <<JOB
name: "$1"
kind: REWARD_MODEL_ONLY
seed: 5
output_dir: "$work/out_$1"
topology { learner_ranks: $4 rollout_ranks: $5 placement: $3 }
task {
  name: "preference_file"
  train_pairs: "${6:-data/train.jsonl}"
  eval_pairs: "data/eval.jsonl"
  shifted_pairs: "data/shifted.jsonl"
  meta_responses: "data/meta.jsonl"
  eval_responses: "data/eval_responses.jsonl"
  max_prompt_tokens: 12
  max_response_tokens: 24
}
reward_model { d_model: 32 n_layers: 2 n_heads: 4 max_seq_len: 40 }
reward_training {
  mode: $2 eta: 0.01 learning_rate: 2e-3
  batch_size: 24 meta_batch_size: 12 responses_per_prompt: 4 epochs: 2
}
JOB
}

run() {  # run NP JOB
  out=$(timeout --kill-after=5 300 "$mpirun_local" -np "$1" "$trainer" --job="$work/$2.pbtxt" 2>&1)
  code=$?
}

final() {  # final JOB KEY: the last epoch's value of KEY
  e2e final "$work/out_$1/reward_model.jsonl" "$2"
}

above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

for layout in "1 COLOCATED 1 1" "2 SEPARATE 1 1" "4 SEPARATE 3 1" "4 COLOCATED 4 4"; do
  read -r np placement learners rollouts <<<"$layout"
  for mode in VANILLA METARM; do
    name="${mode}_np${np}_${placement}"
    write_job "$name" "$mode" "$placement" "$learners" "$rollouts"
    run "$np" "$name"
    check "$name exits 0" test "$code" -eq 0
    check "$name logs two epochs" test "$(wc -l <"$work/out_$name/reward_model.jsonl")" -eq 2
    check "$name logs every step, agreeing with the epoch means" \
      e2e reward_steps "$work/out_$name" reward_model.jsonl reward_steps.jsonl
    check "$name saves weights" test -s "$work/out_$name/reward_model.pt"
    accuracy=$(final "$name" eval_accuracy)
    check "$name learns (eval accuracy $accuracy > 0.75)" above "$accuracy" 0.75
  done
done

# The same VANILLA job on 1 and on 3 learners gives the same numbers up to
# float32 rounding (the exact check, in float64, is
# reward_data_parallel_mpi_test.cc). METARM is not compared here: its
# trajectory amplifies rounding differences (docs/reward_model.md), so runs
# that differ only in reduction order drift apart.
a=$(final VANILLA_np1_COLOCATED train_loss)
b=$(final VANILLA_np4_SEPARATE train_loss)
check "1 and 3 learners agree on the loss ($a vs $b)" \
  awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; exit !(d <= 1e-3 && -d <= 1e-3) }'

# Same job, same layout: the same numbers, bit for bit.
write_job METARM_again METARM SEPARATE 3 1
run 4 METARM_again
check "rerun exits 0" test "$code" -eq 0
same_metrics() {  # every field but the timing, every epoch: DIR_A DIR_B
  e2e same "$1" "$2" reward_model.jsonl
}
check "rerun gives identical metrics" same_metrics \
  "$work/out_METARM_again" "$work/out_METARM_np4_SEPARATE"
check "rerun gives identical weights" cmp -s \
  "$work/out_METARM_again/reward_model.pt" "$work/out_METARM_np4_SEPARATE/reward_model.pt"

# Bad data: line 3 has no "rejected"; every rank stops with exit code 2.
head -n 2 "$work/data/train.jsonl" >"$work/data/bad.jsonl"
echo '{"prompt": "rate: abcd", "chosen": "aab"}' >>"$work/data/bad.jsonl"
write_job bad METARM SEPARATE 1 1 data/bad.jsonl
run 2 bad
check "bad data exits 2" test "$code" -eq 2
check "bad data names file, line and reason" grep -qF 'bad.jsonl:3: missing field "rejected"' <<<"$out"
check "bad data writes no weights" test ! -e "$work/out_bad/reward_model.pt"

# The repository's HH-RLHF slice (data/hh-rlhf: 2,312 pairs of whole
# dialogues, gzip), a data dependency: read, tokenized and trained on end to end.
hh="$PWD/data/hh-rlhf/harmless-base-test.jsonl.gz"
check "HH-RLHF slice present at $hh" test -f "$hh"
cat >"$work/hh.pbtxt" <<JOB
name: "hh"
kind: REWARD_MODEL_ONLY
output_dir: "$work/out_hh"
topology { learner_ranks: 2 rollout_ranks: 2 placement: COLOCATED }
task { name: "preference_file" train_pairs: "$hh" max_prompt_tokens: 24 max_response_tokens: 24 }
reward_model { d_model: 32 n_layers: 1 n_heads: 4 max_seq_len: 50 }
reward_training { mode: VANILLA batch_size: 64 epochs: 1 }
JOB
run 2 hh
check "HH-RLHF job exits 0" test "$code" -eq 0
check "HH-RLHF job evaluates 231 held-out pairs" \
  grep -q '"eval_pairs":231' "$work/out_hh/reward_model.jsonl"

finish_checks reward_model_job
