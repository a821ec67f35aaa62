#!/usr/bin/env bash
# Makes the testbed's gold networks, data/gold/sort and data/gold/reverse
# (task.gold_network): per task, one teacher job (experiments/
# gold_network.py: the reproduction's SFT at seed 1000, then one reward
# model trained on 16,384 pairs labelled by the formula's gold reward at
# temperature 0.02, exported), then its calibration (gold.json). Both run at
# once; about 3 minutes on 2 cores. Deterministic: a rerun on this machine
# writes the same files.
#   experiments/make_gold_network.sh [DEST_DIR]   (default data/gold)
# TEACHER_PAIRS=N trains the teachers on N pairs instead of 16,384 (the
# learnability study of docs/testbed.md; its networks go to DEST_DIR, not
# data/gold).
# METARM_TRAINER=PATH uses that metarm_train instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh
dest=${1:-data/gold}
out=runs/gold_network${TEACHER_PAIRS:+_$TEACHER_PAIRS}
trainer=$(trainer_or_build "${METARM_TRAINER:-}")
rm -rf "$out"
mkdir -p "$out"
teach() {  # teach TASK
  /usr/bin/python3 experiments/gold_network.py job "$1" "$out/$1" \
    ${TEACHER_PAIRS:+"$TEACHER_PAIRS"} >"$out/$1.pbtxt"
  deploy/mpirun_local.sh -np 1 "$trainer" --job="$out/$1.pbtxt" \
    --threads_per_rank=1 --progress=plain >"$out/$1.log" 2>&1 ||
    { echo "make_gold_network: the $1 teacher failed; see $out/$1.log" >&2
      return 1; }
}
teach sort &
sort_job=$!
teach reverse
wait "$sort_job"
for task in sort reverse; do
  /usr/bin/python3 experiments/gold_network.py fit "$task" "$out/$task" \
    "$dest/$task"
done
