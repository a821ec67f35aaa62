#!/usr/bin/env bash
# The fuzz targets' short bounded run (15 s each), from the runfiles tree.
set -euo pipefail
METARM_FUZZ_ROOT=$(pwd) exec tests/fuzz/run_fuzzers.sh 15
