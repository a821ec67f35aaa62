#!/usr/bin/env bash
# Runs a job on this machine: set-up if needed, an optimised build, then
# mpirun with the number of ranks the job asks for, then the command that
# draws the run (deploy/report.sh).
#   deploy/run_local.sh [JOB_FILE] [metarm_train flags...]
# Default job: jobs/quickstart.pbtxt.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$repo_root"
job=${1:-jobs/quickstart.pbtxt}
shift || true

deploy/setup.sh
echo "metarm: building metarm_train (the first build takes about $first_build_minutes minutes on 2 cores, later ones seconds)"
bazel_progress build build -c opt --ui_event_filters=-info,-stdout \
  //trainer:metarm_train
trainer=bazel-bin/trainer/metarm_train
ranks=$("$trainer" --job="$job" --print_world_size)
output_dir=$("$trainer" --job="$job" --print_output_dir "$@")
echo "metarm: running $job on $ranks ranks"
# Under mpirun the trainer's output is not this terminal; say whether it is.
progress=plain
if [ -t 1 ]; then progress=updating; fi
deploy/mpirun_local.sh -np "$ranks" "$trainer" --job="$job" \
  --progress="$progress" "$@"
echo "metarm: outputs in $output_dir; a picture of the run: deploy/report.sh $output_dir"
