#!/usr/bin/env bash
# experiments/testbed_shift at a tiny size: it runs, and writes every figure
# docs/testbed.md quotes (the full run is experiments/testbed_shift.sh).
set -uo pipefail
binary=$1
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }
out=$("$binary" --task=reverse --seed=2 --sft_steps=30 --pairs=100 \
  --eval_prompts=8 --max_n=4 --out="$work/result.json" --data_dir="$work/data" 2>&1)
code=$?
check "runs" test "$code" -eq 0
check "prints the best-of-n table" has "best-of-n against the proxy"
check "writes every figure" e2e testbed_result "$work/result.json"
for file in train_pairs eval_pairs shifted_pairs meta eval_responses; do
  check "writes $file.jsonl" test -s "$work/data/$file.jsonl"
done
check "meta set has 4 responses per prompt and half the prompts" e2e meta_set "$work/data/meta.jsonl" 4 4
out=$("$binary" --task=chess 2>&1)
code=$?
check "unknown task exits 2" test "$code" -eq 2
check "unknown task named" has 'unknown task "chess", one of: sort, reverse'
finish_checks testbed_shift_smoke
