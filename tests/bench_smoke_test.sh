#!/usr/bin/env bash
# bench/run.sh --smoke with the suite's binaries: every figure is produced
# and every benchmark's own correctness check passes.
set -uo pipefail
learner_bench=$1
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }
out=$(METARM_BENCH_BIN="$(cd "$(dirname "$learner_bench")" && pwd)" METARM_BENCH_THREADS=1 \
      bench/run.sh --smoke --out "$work/bench" 2>&1)
code=$?
check "bench/run.sh --smoke exits 0 (every check passed)" test "$code" -eq 0
check "results.json lists every figure" e2e bench_figures "$work/bench/results.json"
check "the table is printed" has "figures in"
finish_checks bench_smoke
