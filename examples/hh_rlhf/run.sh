#!/usr/bin/env bash
# RLHF on the repository's HH-RLHF slice, end to end, with models made here
# (no pretrained weights can be downloaded):
#   1. a small language model trained on the chosen dialogues;
#   2. a larger judge reward model trained on all of the slice's pairs;
#   3. the RLHF job from step 1's model, one VANILLA arm and one METARM arm,
#      judged by step 2's model; then the per-round table of both.
# These tiny byte-level models prove the pipeline, not the method: they
# cannot write sensible replies, and a difference between the arms here
# says nothing about MetaRM (docs/RESULTS.md is where the method is
# measured).
#
#   examples/hh_rlhf/run.sh           # 15 min 53 s with `time`, 2 cores, build cached (2026-11-29)
#   examples/hh_rlhf/run.sh --quick   # the same steps, a few steps each: 57 s the same way
# METARM_TRAIN=path/to/metarm_train skips the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/common.sh
here=examples/hh_rlhf
quick=false
[[ "${1:-}" == "--quick" ]] && quick=true
# Job files resolve relative paths against their own folder: the written
# jobs name everything by absolute path.
out=$(realpath -m "${METARM_EXAMPLE_OUT:-runs/hh_rlhf}")
slice=$PWD/data/hh-rlhf/harmless-base-test.jsonl.gz

trainer=$(trainer_or_build "${METARM_TRAIN:-}")
mpirun_local=${METARM_MPIRUN:-deploy/mpirun_local.sh}

# job FILE [SED EXPRESSIONS...]: the job with its output folder under $out
# and, with --quick, a few steps of everything.
job() {
  local file=$1
  shift
  local shrink=()
  if $quick; then
    shrink=(-e 's/steps: 400/steps: 20/' -e 's/epochs: 2/epochs: 1/'
      -e 's/iterations_per_round: 10/iterations_per_round: 2/'
      -e 's/num_prompts: 32/num_prompts: 8/' -e 's/shifted_pairs: 64/shifted_pairs: 8/'
      -e 's/num_train_prompts: 64/num_train_prompts: 16/'
      -e 's/max_new_tokens: 48/max_new_tokens: 8/'
      -e 's|\(train_pairs: \)"data/hh-rlhf/harmless-base-test.jsonl.gz"|\1"'"$out"'/pairs_quick.jsonl"|'
      -e 's|\(eval_pairs: \)"data/hh-rlhf/harmless-base-test.jsonl.gz"|\1"'"$out"'/pairs_quick.jsonl"|')
  fi
  sed -e "s|runs/hh_rlhf|$out|g" "${shrink[@]}" \
    -e "s|\"data/hh-rlhf/harmless-base-test.jsonl.gz\"|\"$slice\"|" "$@" "$here/$file"
}

run() {  # run JOB_FILE RANKS
  "$mpirun_local" -np "$2" "$trainer" --job="$1" --threads_per_rank=1
}

# A fresh start: the jobs would resume from checkpoints left in $out.
rm -rf "$out"
mkdir -p "$out"
if $quick; then
  # The first 200 pairs of the slice.
  /usr/bin/python3 -c 'import gzip, sys
lines = gzip.open(sys.argv[1], "rt").readlines()[:200]
open(sys.argv[2], "w").writelines(lines)' "$slice" "$out/pairs_quick.jsonl"
fi
start=$(date +%s)
echo "== 1/3: a language model on the HH-RLHF dialogues"
job language_model.pbtxt >"$out/language_model.pbtxt"
run "$out/language_model.pbtxt" 3
echo "== 2/3: the judge reward model on all of the slice's pairs"
job judge.pbtxt >"$out/judge.pbtxt"
run "$out/judge.pbtxt" 3
for mode in VANILLA METARM; do
  arm=$(tr 'A-Z' 'a-z' <<<"$mode")
  echo "== 3/3: RLHF, $mode arm"
  job rlhf.pbtxt -e "s/@MODE@/$mode/" -e "s/@ARM@/$arm/g" >"$out/rlhf_$arm.pbtxt"
  run "$out/rlhf_$arm.pbtxt" 2
done
echo
/usr/bin/python3 "$here/table.py" "$out/vanilla/rounds.jsonl" "$out/metarm/rounds.jsonl"
echo
echo "examples/hh_rlhf/run.sh$($quick && echo " --quick"): $(($(date +%s) - start)) s of runs." \
  "These tiny models prove the pipeline, not the method."
