#!/usr/bin/env bash
# experiments/scaling/sweep.py --local on real points: a bad grid is refused
# before anything runs (exit 2, every problem named, nothing written); a
# 2-point sweep whose second point is pre-empted (SIGUSR1 to its mpirun) ends
# with exit 1 and a report listing it as stopped; the same command again
# skips the completed point, resumes the stopped one from its checkpoint and
# writes the report with both points, their time split, samples/s,
# efficiency and the calibrated model's prediction; a grid changed under a
# folder that ran is refused.
set -uo pipefail
trainer=$(realpath "$1")
plan_tool=$(realpath "$2")
bench_dir=$(dirname "$(realpath "$3")")
base_job=$(realpath "$4")
work=${TEST_TMPDIR:-$(mktemp -d)}
source tests/check_lib.sh
sweep=(/usr/bin/python3 experiments/scaling/sweep.py --trainer "$trainer"
  --plan_tool "$plan_tool" --bench_dir "$bench_dir")

# --- A bad grid: every problem, exit 2, nothing written. -----------------
cat >"$work/bad.pbtxt" <<GRID
base_job: "$base_job"
axis { name: "layout" field: "topology.learner_rankz" values: "1" }
axis { name: "staleness" field: "ppo.max_staleness" values: "0" values: "0" }
GRID
out=$("${sweep[@]}" --local "$work/bad.pbtxt" --output_dir "$work/bad" 2>&1)
code=$?
check "a bad grid exits 2" test "$code" -eq 2
check "it names the unknown field" has "Topology has no field 'learner_rankz'"
check "and the repeated label" has "axis 'staleness': two values labelled '0'"
check "and its file" has "$work/bad.pbtxt: "
check "nothing is written" test ! -e "$work/bad"

# --- Two tiny points; the second (longer) is pre-empted. ------------------
cat >"$work/grid.pbtxt" <<GRID
name: "test"
base_job: "$base_job"
axis {
  name: "layout"
  value { label: "1+1" set { field: "topology" value: "{ learner_ranks: 1 rollout_ranks: 1 }" } }
  value {
    label: "2+1"
    set { field: "topology.learner_ranks" value: "2" }
    set { field: "ppo.iterations_per_round" value: "40" }
  }
}
GRID
dir=$work/sweep
second=$dir/points/layout-2+1
"${sweep[@]}" --local "$work/grid.pbtxt" --output_dir "$dir" >"$work/first.txt" 2>&1 &
sweep_pid=$!
for _ in $(seq 1500); do [[ -s "$second/run/metrics.jsonl" ]] && break; sleep 0.2; done
check "the second point is training" test -s "$second/run/metrics.jsonl"
kill -USR1 $(job_pids "$second/job.pbtxt" mpirun) 2>/dev/null
wait "$sweep_pid"
code=$?
out=$(cat "$work/first.txt")
echo "$out"
check "a sweep with a stopped point exits 1" test "$code" -eq 1
check "the first point completed" has "point 1/2 layout-1+1 (2 ranks): completed in"
check "the second was stopped (exit 3)" has "point 2/2 layout-2+1 (3 ranks): stopped in"
check "the summary names it" has "layout-2+1: stopped (exit code 3), log $second/log.txt"
out=$(cat "$dir/report.md")
check "the report lists the stopped point" has "**layout-2+1**: stopped, exit code 3"
check "with its log's last lines" has "stopped by SIGUSR1"

# --- Again: the completed point is skipped, the stopped one resumes. -----
out=$("${sweep[@]}" --local "$work/grid.pbtxt" --output_dir "$dir" 2>&1)
code=$?
echo "$out"
check "the second run exits 0" test "$code" -eq 0
check "it skips the completed point" has "point 1/2 layout-1+1 (2 ranks): completed earlier, skipped"
check "and completes the stopped one" has "point 2/2 layout-2+1 (3 ranks): completed in"
out=$(cat "$second/log.txt")
check "which resumed from its checkpoint" has "resuming from the checkpoint in $second/run/checkpoints"
check "its log keeps both attempts" test "$(count "=== sweep attempt")" -eq 2
check "the first point ran once" test "$(grep -c "=== sweep attempt" "$dir/points/layout-1+1/log.txt")" -eq 1
check "40 PPO iterations in the resumed point" test "$(wc -l <"$second/run/metrics.jsonl")" -eq 40

out=$(cat "$dir/report.md")
check "the report has a row per point" test "$(count "| completed |")" -eq 2
check "the report's PNGs" test -s "$dir/phases.png" -a -s "$dir/throughput.png" -a -s "$dir/efficiency.png"
check "the report's figures are sound" /usr/bin/python3 - "$dir/report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
rows = {r["name"]: r for r in report["points"]}
assert set(rows) == {"layout-1+1", "layout-2+1"}, rows.keys()
for r in rows.values():
    m = r["measured"]
    assert m["iterations"] >= 2, m
    parts = m["waiting_for_experience"] + m["learning"] + m["weight_sync"]
    assert m["iteration"] > 0 and abs(m["iteration"] - parts) < 0.5 * m["iteration"], m
    assert r["samples_per_second"] > 0
    p = r["predicted"]
    assert p["iteration"] > 0 and p["learning"] > p["allreduce"] >= 0, p
    assert abs(r["prediction_error"]) < 10, r["prediction_error"]
assert rows["layout-1+1"]["efficiency"] == 1.0
assert rows["layout-1+1"]["predicted"]["allreduce"] == 0  # one learner
assert rows["layout-2+1"]["predicted"]["allreduce"] > 0
assert report["efficiency_baseline"] == "layout-1+1"
print("report ok:", {n: round(r["prediction_error"], 2) for n, r in rows.items()})
PY
check "the calibration was measured once" test -s "$dir/calibration.json"

# --- A changed grid under the same folder is refused. ---------------------
sed -i 's/value: "40"/value: "41"/' "$work/grid.pbtxt"
out=$("${sweep[@]}" --local "$work/grid.pbtxt" --output_dir "$dir" 2>&1)
code=$?
check "a changed grid on a folder that ran exits 2" test "$code" -eq 2
check "naming the point whose job changed" has "points/layout-2+1/job.pbtxt: the point's job differs"
# --- The grids the docs quote expand and validate. --------------------------
for grid in example:8 fits:12; do
  name=${grid%%:*}
  out=$("$plan_tool" --grid="experiments/scaling/$name.pbtxt" --output_dir="$work/grid_$name" 2>&1)
  code=$?
  check "experiments/scaling/$name.pbtxt expands (exit $code)" test "$code" -eq 0
  check "to its ${grid##*:} points" has "${grid##*:} points of sweep '$name'"
done
finish_checks sweep
