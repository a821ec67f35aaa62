#!/usr/bin/env bash
# Set-up, then the whole test suite (build included), then the CUDA build.
#   deploy/test.sh [extra bazel test arguments, e.g. --config=asan]
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$repo_root"
deploy/setup.sh
echo "deploy/test.sh: building and testing everything (on a fresh machine" \
  "about $first_test_minutes minutes on 2 cores, most of it the first" \
  "build; later runs about $later_test_minutes). A line every 20 s says" \
  "which test runs and how many are done."
# Tests always run (no results reused from the disk cache), so CI sees every
# test pass now, not some time before.
bazel_progress test test --cache_test_results=no "$@" //...
# The NCCL backend and everything else under --config=cuda build and link
# against /usr/local/cuda (no GPU here: its test skips the GPU part, saying
# why).
if [[ -d "${METARM_CUDA_HOME:-/usr/local/cuda}/include" ]]; then
  echo "deploy/test.sh: the NCCL test and the build of everything under --config=cuda"
  bazel_progress cuda-test test --config=cuda --cache_test_results=no \
    //comm:nccl_communicator_test
  bazel_progress cuda-build build --config=cuda //...
  # The GPU smoke check's source list is Bazel's, not kept by hand.
  deploy/gpu_smoke/list_sources.sh --check
  # deploy/gpu_smoke.sh, built here against Debian's CPU LibTorch: it must
  # compile and link, and say that it needs a CUDA device (exit 3).
  smoke_out=$(mktemp -d)
  set +e
  TORCH_DIR=/usr/lib/python3/dist-packages/torch deploy/gpu_smoke.sh --out "$smoke_out" >"$smoke_out/log" 2>&1
  smoke_code=$?
  set -e
  if [[ $smoke_code -ne 3 ]] || ! grep -q "needs a CUDA device" "$smoke_out/log"; then
    cat "$smoke_out/log"
    echo "deploy/test.sh: deploy/gpu_smoke.sh exited $smoke_code; expected 3 (built, no CUDA device)" >&2
    exit 1
  fi
  echo "deploy/test.sh: deploy/gpu_smoke.sh builds and links; no GPU here (exit 3, as expected)"
  rm -rf "$smoke_out"
else
  echo "deploy/test.sh: no CUDA at ${METARM_CUDA_HOME:-/usr/local/cuda}: the --config=cuda build is not checked"
fi
