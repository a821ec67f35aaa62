#!/usr/bin/env bash
# experiments/reproduce.sh in its test-suite form (--smoke: tiny models, two
# seeds, every configuration): every run finishes and the report has all its
# parts: the tables per task, the three plots per task as PNG files, the
# sweep and variants table and the findings.
set -uo pipefail
trainer=$(realpath "$1")
script=$2
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"

out=$(METARM_TRAINER=$trainer METARM_PARALLEL=2 "$script" --smoke \
  --out "$work/runs" --report "$work/report/RESULTS.md" 2>&1)
code=$?
check "reproduce.sh --smoke exits 0" test "$code" -eq 0
report=$work/report/RESULTS.md
check "the report exists" test -s "$report"
out=$(cat "$report" 2>/dev/null)
for task in sort reverse; do
  for section in "### Win / tie / lose against the SFT policy ($task)" \
    "### MetaRM against vanilla, head to head ($task)" \
    "### Gold reward, reward-model accuracy and reward gaps per round ($task)" \
    "### Gold and proxy reward against PPO iteration ($task)" \
    "### Reward-model accuracy per round ($task)" \
    "### Reward-gap histograms on policy samples ($task)" \
    "### The η sweep and the variants ($task)"; do
    check "section: $section" has "$section"
  done
  for plot in reward_vs_iteration rm_accuracy reward_gaps; do
    png=$work/report/results/${task}_$plot.png
    check "$task $plot is a PNG" bash -c "head -c 8 '$png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
    check "$task $plot is embedded" has "(results/${task}_$plot.png)"
  done
  for config in "VANILLA (= METARM η=0)" "METARM η=0.03" "METARM η=0.1" "METARM η=0.3" \
    "METARM η=1" "METARM_EXACT η=0.1" "GAP_REGULARIZED λ=0.3"; do
    check "$task sweep row $config" has "| $config | 2 |"
  done
done
# Per round rows with mean ± sd over the two seeds.
check "round rows over seeds" test "$(grep -c '^| 3 | .* ± ' "$report")" -ge 6
check "findings" has "## What the numbers say"
check "the command is in the report" has "experiments/reproduce.sh --smoke"
finish_checks reproduce_smoke
