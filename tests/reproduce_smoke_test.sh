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
check "settings table" has "## Settings against the papers'"
for task in sort reverse; do
  for section in "### The regime the comparison needs ($task)" \
    "### Paired comparison over seeds ($task)" \
    "### Best-of-8 pre-test ($task)" \
    "### Gold and proxy against KL, fixed reward model ($task)" \
    "### Win / tie / lose against the SFT policy ($task)" \
    "### MetaRM against vanilla, head to head ($task)" \
    "### Gold reward, reward-model accuracy and reward gaps per round ($task)" \
    "### Gold and proxy reward against PPO iteration ($task)" \
    "### Reward-model accuracy per round ($task)" \
    "### Reward-gap histograms on policy samples ($task)" \
    "### The η sweep and the variants ($task)"; do
    check "section: $section" has "$section"
  done
  for plot in fixed_rm_vs_kl reward_vs_iteration rm_accuracy reward_gaps; do
    png=$work/report/results/${task}_$plot.png
    check "$task $plot is a PNG" bash -c "head -c 8 '$png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
    check "$task $plot is embedded" has "(results/${task}_$plot.png)"
  done
  for config in "VANILLA (= METARM η=0)" "METARM η=0.03" "METARM η=0.1" "METARM η=0.3" \
    "METARM η=1" "METARM_EXACT η=0.1" "GAP_REGULARIZED λ=0.3"; do
    check "$task sweep row $config" has "| $config | 2 |"
  done
done
# Two tasks: an A/A row per seed, and the paired means with intervals of
# METARM and of A/A.
check "A/A rows per seed" test "$(grep -c "^| A/A (VANILLA, arm_seed 1) | [12] |" "$report")" -eq 4
check "paired means with intervals" test "$(grep -c '^| \*\*.*mean \[95% CI\]\*\* | 2 | [-+]' "$report")" -eq 4
check "best-of-n rows per round" test "$(grep -c '^| [123] | [-+][0-9.]* \[[-+][0-9.]*, [-+][0-9.]*\] | [-+]' "$report")" -eq 6
# Per round rows with mean ± sd over the two seeds.
check "round rows over seeds" test "$(grep -c '^| 3 | .* ± ' "$report")" -ge 6
check "findings" has "## What the numbers say"
check "power statement per task" test "$(grep -c '^Power (two-sided 5% test' "$report")" -eq 2
check "summary.json has every field of both tasks" /usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
fields = ["rm_acc_ceiling", "rm_acc_original_sft", "fixed_rm_gold_peak",
          "fixed_rm_gold_final", "aa_diff_ci", "metarm_minus_vanilla_gold_ci",
          "metarm_minus_vanilla_winlose_ci", "bon_metarm_minus_vanilla_ci", "seeds"]
for task in ("sort", "reverse"):
    missing = [f for f in fields if f not in s[task]]
    assert not missing, (task, missing)
    for f in ("aa_diff_ci", "metarm_minus_vanilla_gold_ci", "metarm_minus_vanilla_winlose_ci"):
        low, high = s[task][f]
        assert -1 <= low <= high <= 1, (task, f, low, high)
    assert s[task]["seeds"] == [1, 2], s[task]["seeds"]
    assert 0.5 <= s[task]["rm_acc_ceiling"] <= 1, s[task]["rm_acc_ceiling"]
    # METARM minus the mean of the two VANILLA arms is (METARM - VANILLA)
    # - (A/A - VANILLA) / 2, seed by seed and so in the mean.
    both = s[task]["metarm_minus_both_vanilla_gold_mean"]
    expected = (s[task]["metarm_minus_vanilla_gold_mean"]
                - s[task]["aa_diff_mean"] / 2)
    assert abs(both - expected) < 1e-12, (task, both, expected)
    # The power statement: the A/A spread, the difference 2 seeds detect
    # (2.8 sd / sqrt 2), and the seeds a 0.05 difference needs.
    for key in ("gold", "winlose"):
        sd = s[task]["aa_%s_sd" % key]
        assert abs(s[task]["detectable_%s_difference" % key] - 2.801585 * sd / 2 ** 0.5) < 1e-9
        assert s[task]["seeds_for_%s_0.05" % key] >= 2
' "$work/report/results/summary.json"
check "the command is in the report" has "experiments/reproduce.sh --smoke"
finish_checks reproduce_smoke
