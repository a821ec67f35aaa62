#!/usr/bin/env bash
# Distribution shift and over-optimisation on the testbed tasks: for each task
# and seed, SFT -> pairs from SFT samples -> VANILLA proxy reward model ->
# best-of-n against the proxy (experiments/testbed_shift.cc), then a table.
#   experiments/testbed_shift.sh [--quick]    (10 min on 2 busy cores, 2026-11-29; --quick: 1 seed)
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh
seeds="1 2 3"
[[ "${1:-}" == "--quick" ]] && seeds="1"
out=runs/testbed_shift
rm -rf "$out"
mkdir -p "$out"
deploy/setup.sh
bazel_progress build build -c opt --ui_event_filters=-info,-stdout //experiments:testbed_shift
for task in sort reverse; do
  for seed in $seeds; do
    bazel-bin/experiments/testbed_shift --task="$task" --seed="$seed" \
      --out="$out/${task}_seed${seed}.json" >"$out/${task}_seed${seed}.log"
    echo "done: $task seed $seed"
  done
done
/usr/bin/python3 experiments/summarize_testbed.py "$out" | tee "$out/summary.md"
