#!/usr/bin/env bash
# examples/hh_rlhf/run.sh --quick from the repository's files: the language
# model, the judge and both RLHF arms run, and the per-round table is
# printed with every judged column filled for rounds 1 and 2.
set -uo pipefail
trainer=$(realpath "$1")
mpirun_local=$(realpath "$2")
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"

out=$(METARM_TRAIN="$trainer" METARM_MPIRUN="$mpirun_local" \
  METARM_EXAMPLE_OUT="$work/hh" timeout 600 examples/hh_rlhf/run.sh --quick 2>&1)
code=$?
check "the example exits 0" test "$code" -eq 0
check "it says what it proves" has "These tiny models prove the pipeline, not the method."
for arm in VANILLA METARM; do
  for round in 1 2; do
    # | arm | round | 11 columns |, none empty from round 1.
    check "$arm round $round: a full row" \
      grep -qE "^\| $arm \| $round( \| [-0-9.]+){11} \|$" <<<"$out"
  done
done
check "the judge was exported and used" test -f "$work/hh/judge/reward_model_hf/config.json"
finish_checks hh_rlhf_example_test
