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
  tail -n 1 "$work/out_$1/rm_metrics.jsonl" |
    /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

above() { /usr/bin/python3 -c "import sys; sys.exit(0 if $1 > $2 else 1)"; }

for layout in "1 COLOCATED 1 1" "2 SEPARATE 1 1" "4 SEPARATE 3 1" "4 COLOCATED 4 4"; do
  read -r np placement learners rollouts <<<"$layout"
  for mode in VANILLA METARM; do
    name="${mode}_np${np}_${placement}"
    write_job "$name" "$mode" "$placement" "$learners" "$rollouts"
    run "$np" "$name"
    check "$name exits 0" test "$code" -eq 0
    check "$name logs two epochs" test "$(wc -l <"$work/out_$name/rm_metrics.jsonl")" -eq 2
    check "$name logs every step, agreeing with the epoch means" /usr/bin/python3 - "$work/out_$name" <<'PY'
import json, sys
d = sys.argv[1]
epochs = [json.loads(l) for l in open(d + "/rm_metrics.jsonl")]
steps = [json.loads(l) for l in open(d + "/rm_steps.jsonl")]
assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
for e in epochs:
    mine = [s for s in steps if s["epoch"] == e["epoch"]]
    assert len(mine) == e["steps"], (len(mine), e["steps"])
    for step_key, epoch_key in [("loss", "train_loss"), ("accuracy", "train_accuracy"),
                                ("gradient_cosine", "gradient_cosine"),
                                ("meta_step_ratio", "meta_step_ratio"),
                                ("meta_objective", "meta_objective")]:
        mean = sum(s[step_key] for s in mine) / len(mine)
        assert abs(mean - e[epoch_key]) < 1e-9, (step_key, mean, e[epoch_key])
PY
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
  /usr/bin/python3 -c "import sys; sys.exit(0 if abs($a - $b) <= 1e-3 else 1)"

# Same job, same layout: the same numbers, bit for bit.
write_job METARM_again METARM SEPARATE 3 1
run 4 METARM_again
check "rerun exits 0" test "$code" -eq 0
same_metrics() {  # every field but the timing, every epoch
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
def load(path):
    rows = [json.loads(line) for line in open(path)]
    for row in rows:
        row.pop("seconds")
    return rows
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
}
check "rerun gives identical metrics" same_metrics \
  "$work/out_METARM_again/rm_metrics.jsonl" "$work/out_METARM_np4_SEPARATE/rm_metrics.jsonl"
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

# The real HH-RLHF slice (2,312 pairs of whole dialogues, gzip) beside the
# repository: read, tokenized and trained on end to end.
repo=$(dirname "$(dirname "$(realpath "$generator")")")
hh="$repo/../shared/data/hh-rlhf/harmless-base-test.jsonl.gz"
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
  grep -q '"eval_pairs":231' "$work/out_hh/rm_metrics.jsonl"

finish_checks reward_model_job
