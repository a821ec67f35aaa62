#!/usr/bin/env bash
# The MetaRM papers' comparison on the gold-reward testbed, and its report.
#
#   experiments/reproduce.sh            # full: 2 tasks x 8 paired seeds
#                                       # (VANILLA, METARM, an A/A arm), 3
#                                       # rounds; the η sweep and variants
#                                       # and the fixed-reward-model check on
#                                       # 3 seeds; writes docs/RESULTS.md and
#                                       # docs/results/ (with summary.json)
#                                       # (at most 2 hours on 2 cores; 103.8
#                                       # minutes of runs here on 2026-12-02
#                                       # with the build current; the first
#                                       # build took 13 minutes on 2026-12-01)
#   experiments/reproduce.sh --quick    # 2 seeds, fewer steps, no sweep, the
#                                       # same report in runs/reproduce_quick/
#                                       # (at most 10 minutes)
#   experiments/reproduce.sh --smoke    # tiny models: the test suite's form
#
# Options: --out DIR (where the runs go), --report FILE (the report).
# METARM_TRAINER=PATH uses that metarm_train instead of building one;
# METARM_PARALLEL=N runs N jobs at a time (default: the number of cores),
# each on one rank with one thread.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh
profile=full
out=""
report=""
command=$(echo "experiments/reproduce.sh $*" | sed 's/ *$//')
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) profile=quick ;;
    --smoke) profile=smoke ;;
    --out) out=$2; shift ;;
    --report) report=$2; shift ;;
    *) echo "reproduce.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-runs/reproduce_$profile}
if [[ -z "$report" ]]; then
  if [[ "$profile" == full ]]; then report=docs/RESULTS.md; else report=$out/RESULTS.md; fi
fi
python=/usr/bin/python3

trainer=$(trainer_or_build "${METARM_TRAINER:-}")
parallel=${METARM_PARALLEL:-$(nproc)}

rm -rf "$out"
mkdir -p "$out/logs"
"$python" experiments/reproduce_plan.py "$profile" "$out" >"$out/plan.txt"
echo "reproduce: $(wc -l <"$out/plan.txt") runs ($profile), $parallel at a time, logs in $out/logs"
start=$(date +%s)

run_one() {  # run_one NAME JOB
  if ! deploy/mpirun_local.sh -np 1 "$trainer" --job="$2" --threads_per_rank=1 \
    --progress=plain >"$out/logs/$1.log" 2>&1; then
    echo "reproduce: run $1 failed; the end of $out/logs/$1.log:" >&2
    tail -n 20 "$out/logs/$1.log" >&2
    return 1
  fi
  echo "reproduce: $1 done ($(($(date +%s) - start)) s)"
}
export -f run_one
export out trainer start
if ! xargs -P "$parallel" -L 1 bash -c 'run_one "$0" "$1"' <"$out/plan.txt"; then
  echo "reproduce: some runs failed (above); no report written" >&2
  exit 1
fi
wall=$(($(date +%s) - start))
mkdir -p "$(dirname "$report")"
"$python" experiments/make_report.py "$out" "$report" --profile="$profile" \
  --wall="$wall" --command="$command"
echo "reproduce: report in $report ($wall s)"
