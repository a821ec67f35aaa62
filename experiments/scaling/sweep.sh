#!/usr/bin/env bash
# Builds what a sweep needs (-c opt: metarm_train, metarm_sweep_plan and the
# benchmarks that calibrate the model) and runs experiments/scaling/sweep.py
# with them; every argument goes to sweep.py.
#
#   experiments/scaling/sweep.sh --local experiments/scaling/example.pbtxt --output_dir sweeps/example
#   experiments/scaling/sweep.sh --slurm GRID --output_dir DIR --wait
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/common.sh
bazel_progress build build -c opt //trainer:metarm_train \
  //experiments/scaling:metarm_sweep_plan //bench:metarm_learner_bench \
  //bench:metarm_comm_bench >&2
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
exec /usr/bin/python3 experiments/scaling/sweep.py \
  --trainer "$bin/trainer/metarm_train" \
  --plan_tool "$bin/experiments/scaling/metarm_sweep_plan" \
  --bench_dir "$bin/bench" "$@"
