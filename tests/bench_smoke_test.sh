#!/usr/bin/env bash
# bench/run.sh --smoke with the suite's binaries, twice: every figure is
# produced, every benchmark's own correctness check passes, every figure
# carries its spread and every bounded figure (MFU, shares) stays inside its
# bounds in both runs.
set -uo pipefail
learner_bench=$1
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }
for run in 1 2; do
  out=$(METARM_BENCH_BIN="$(cd "$(dirname "$learner_bench")" && pwd)" METARM_BENCH_THREADS=1 \
        bench/run.sh --smoke --out "$work/bench$run" 2>&1)
  code=$?
  check "run $run: bench/run.sh --smoke exits 0 (every check passed)" test "$code" -eq 0
  check "run $run: results.json lists every figure" e2e bench_figures "$work/bench$run/results.json"
  check "run $run: spreads and bounds" e2e bench_spreads_and_bounds "$work/bench$run/results.json"
  check "run $run: the table is printed with spreads" has "spread (min .. max, n)"
  echo "$out" >"$work/bench$run.log"
done
# bench/compare_runs.py reads a printed table as it reads results.json: run
# 1's table against its own results.json agrees to the table's 4 digits.
ratios() { grep -c '%' <<<"$out"; }
out=$(/usr/bin/python3 bench/compare_runs.py "$work/bench1/results.json" "$work/bench2/results.json" 2>&1)
json_ratios=$(ratios)
out=$(/usr/bin/python3 bench/compare_runs.py --within 0.001 "$work/bench1.log" "$work/bench1/results.json" 2>&1)
code=$?
check "compare_runs.py reads the printed table" test "$code" -eq 0
echo "compare_runs.py: $((json_ratios - 1)) ratio figures in the smoke runs"
check "it lists the ratio figures" test "$json_ratios" -gt 10
check "every ratio figure of results.json is in the table" test "$(ratios)" -eq "$json_ratios"
check "the table's medians are results.json's" has "0 ratio figures more than 0% apart"
echo "no table here" >"$work/no_table.log"
out=$(/usr/bin/python3 bench/compare_runs.py "$work/no_table.log" "$work/bench1/results.json" 2>&1)
code=$?
check "a file without a table: exit 2" test "$code" -eq 2
check "naming the file" has "$work/no_table.log: expected one table"
# The generation benchmark's --profile: four traces that
# bench/profile_summary.py reads, the engine's naming the decode attention.
generation_bench="$(dirname "$learner_bench")/metarm_generation_bench"
"$generation_bench" --d_model=32 --layers=1 --sequences=8 --slots=4 --max_prompt=16 \
  --max_response=8 --k_prompts=2 --k_prompt_tokens=8 --k_max_response=8 --context=16 \
  --threads=1 --profile="$work/profile" >"$work/profile.log" 2>&1
code=$?
check "generation bench --profile exits 0" test "$code" -eq 0
for part in engine static decode_b1 decode_b16; do
  out=$(/usr/bin/python3 bench/profile_summary.py "$work/profile_$part.json" --top 40 2>&1)
  check "profile_summary.py reads the $part trace" has "aten::addmm"
done
out=$(/usr/bin/python3 bench/profile_summary.py "$work/profile_engine.json" --top 40 2>&1)
check "the engine's trace names the decode attention" has "metarm::DecodeAttention"
finish_checks bench_smoke
