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

# The GPU machine's scripts, built here without Bazel against Debian's CPU
# LibTorch, with everything else from deploy/gpu_bundle.sh's folder and this
# machine's own copies hidden (deploy/gpu/without_system_deps.sh), as on a
# GPU machine that has none of them: deploy/gpu_smoke.sh and
# deploy/gpu_check.sh must build and say that they need a CUDA device
# (exit 3), and the check's CPU dry run (the RLHF jobs killed and resumed
# under the bundle's mpirun, the benchmarks at small shapes) must pass.
gpu_checks() {
  local work
  work=$(mktemp -d)
  deploy/gpu_bundle.sh "$work/bundle" >/dev/null
  # -O0: the dry run does not need fast code, and the build takes half the time.
  local run=(deploy/gpu/without_system_deps.sh env DEPS_PREFIX="$work/bundle"
             TORCH_DIR=/usr/lib/python3/dist-packages/torch PYTHON=/usr/bin/python3 OPT=-O0)
  expect_exit() {  # expect_exit CODE TEXT LOG COMMAND...: the run must say TEXT
    local want=$1 text=$2 log=$3; shift 3
    set +e
    "$@" >"$log" 2>&1
    local code=$?
    set -e
    if [[ $code -ne $want ]] || ! grep -q "$text" "$log"; then
      cat "$log"
      echo "deploy/test.sh: $* exited $code; expected $want and \"$text\"" >&2
      exit 1
    fi
  }
  expect_exit 3 "needs a CUDA device" "$work/smoke.log" \
    "${run[@]}" deploy/gpu_smoke.sh --out "$work/build"
  echo "deploy/test.sh: deploy/gpu_smoke.sh builds and links from the bundle; no GPU here (exit 3, as expected)"
  expect_exit 3 "needs a CUDA device" "$work/check.log" \
    "${run[@]}" deploy/gpu_check.sh --build "$work/build" --out "$work/check"
  echo "deploy/test.sh: deploy/gpu_check.sh builds; no GPU here (exit 3, as expected)"
  expect_exit 0 "gpu_check: cpu" "$work/dry_run.log" \
    "${run[@]}" deploy/gpu_check.sh --cpu --build "$work/build" --out "$work/dry_run"
  grep -E "^\| (separate|colocated|build|C\+\+|Python)" "$work/dry_run.log"
  echo "deploy/test.sh: deploy/gpu_check.sh --cpu (the dry run) passes"
  rm -rf "$work"
}
# The NCCL backend and everything else under --config=cuda build and link
# against /usr/local/cuda (no GPU here: its test skips the GPU part, saying
# why).
if [[ -d "${METARM_CUDA_HOME:-/usr/local/cuda}/include" ]]; then
  echo "deploy/test.sh: the NCCL test and the build of everything under --config=cuda"
  bazel_progress cuda-test test --config=cuda --cache_test_results=no \
    //comm:nccl_communicator_test
  bazel_progress cuda-build build --config=cuda //...
  # The GPU programs' source list is Bazel's, not kept by hand.
  deploy/gpu/list_sources.sh --check
  gpu_checks
else
  echo "deploy/test.sh: no CUDA at ${METARM_CUDA_HOME:-/usr/local/cuda}: the --config=cuda build is not checked"
fi
