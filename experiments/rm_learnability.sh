#!/usr/bin/env bash
# Does the reproduction's reward model (d_model 64, 2 layers) learn the
# testbed's gold reward, given more pairs or other optimiser settings? One
# round of reward-model training after the reproduction's SFT, per task and
# setting (experiments/rm_learnability.py); prints the held-out accuracy
# against the gold reward's own (the label-noise ceiling) and the training
# loss by quarter of the steps.
#   experiments/rm_learnability.sh [--quick]   (12 runs, about 5 minutes on 2
#                                               cores; --quick: 4 runs)
# TESTBEDS, VARIANTS and SEEDS pick the runs (experiments/rm_learnability.py
# says how); RM_LEARNABILITY_OUT=DIR puts them there instead of
# runs/rm_learnability.
# METARM_TRAINER=PATH uses that metarm_train instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh
out=${RM_LEARNABILITY_OUT:-runs/rm_learnability}
trainer=$(trainer_or_build "${METARM_TRAINER:-}")
rm -rf "$out"
/usr/bin/python3 experiments/rm_learnability.py plan "$out" "$@" >"$out.plan"
run_one() {  # run_one NAME JOB
  deploy/mpirun_local.sh -np 1 "$trainer" --job="$2" --threads_per_rank=1 \
    --progress=plain >"$out/$1.log" 2>&1 ||
    { echo "rm_learnability: $1 failed; see $out/$1.log" >&2; return 1; }
}
export -f run_one
export out trainer
xargs -P "$(nproc)" -L 1 bash -c 'run_one "$0" "$1"' <"$out.plan"
/usr/bin/python3 experiments/rm_learnability.py table "$out" | tee "$out/table.md"
