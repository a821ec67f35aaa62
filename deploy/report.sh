#!/usr/bin/env bash
# A picture of one run without TensorBoard: RUN_DIR/report.md and its PNG
# plots (deploy/report.py says what they show).
#   deploy/report.sh RUN_DIR    the output folder of an RLHF or reward-model
#                               job, finished or still running
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec /usr/bin/python3 "$repo_root/deploy/report.py" "$@"
