#!/usr/bin/env bash
# Runs a program on N MPI ranks as a Bazel test:
#   mpirun_test.sh N PROGRAM [ARGS...]
# From the runfiles root (Bazel's working folder for tests), through the
# launcher deploy/mpirun_local.sh. Output lines carry the rank
# ([1,R]<stdout>). The run is bounded in time so a hung collective fails the
# test instead of hanging the suite.
set -euo pipefail
ranks=$1
shift
exec timeout --kill-after=10 "${METARM_MPI_TEST_TIMEOUT:-240}" \
  deploy/mpirun_local.sh -np "$ranks" --tag-output "$@"
