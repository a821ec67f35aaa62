#!/usr/bin/env bash
# Set-up, then the whole test suite (build included), then the CUDA build.
#   deploy/test.sh [extra bazel test arguments, e.g. --config=asan]
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$repo_root"
deploy/setup.sh
# Tests always run (no results reused from the disk cache), so CI sees every
# test pass now, not some time before.
bazel test --cache_test_results=no "$@" //...
# The NCCL backend and everything else under --config=cuda build and link
# against /usr/local/cuda (no GPU here: its test skips the GPU part, saying
# why).
if [[ -d "${METARM_CUDA_HOME:-/usr/local/cuda}/include" ]]; then
  bazel test --config=cuda --cache_test_results=no //comm:nccl_communicator_test
  bazel build --config=cuda //...
else
  echo "deploy/test.sh: no CUDA at ${METARM_CUDA_HOME:-/usr/local/cuda}: the --config=cuda build is not checked"
fi
