#!/usr/bin/env bash
# The GPU machine's scripts, built here without Bazel against Debian's CPU
# LibTorch, with everything else from deploy/gpu_bundle.sh's folder and this
# machine's own copies hidden (deploy/gpu/without_system_deps.sh), as on a
# GPU machine that has none of them: deploy/gpu_smoke.sh and
# deploy/gpu_check.sh must build and say that they need a CUDA device
# (exit 3), and the check's CPU dry run (the RLHF jobs killed and resumed
# under the bundle's mpirun, the benchmarks at small shapes) must pass.
# Run it before taking the bundle to a GPU machine (docs/cluster.md);
# deploy/test.sh runs it when METARM_GPU_BUILD_CHECK=1.
#   deploy/gpu_build_check.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$repo_root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
deploy/gpu_bundle.sh "$work/bundle" >/dev/null
# -O0: the dry run does not need fast code, and the build takes half the time.
run=(deploy/gpu/without_system_deps.sh env DEPS_PREFIX="$work/bundle"
     TORCH_DIR=/usr/lib/python3/dist-packages/torch PYTHON=/usr/bin/python3 OPT=-O0)
expect_exit() {  # expect_exit CODE TEXT LOG COMMAND...: the run must say TEXT
  local want=$1 text=$2 log=$3; shift 3
  set +e
  "$@" >"$log" 2>&1
  local code=$?
  set -e
  if [[ $code -ne $want ]] || ! grep -q "$text" "$log"; then
    cat "$log"
    echo "gpu_build_check: $* exited $code; expected $want and \"$text\"" >&2
    exit 1
  fi
}
expect_exit 3 "needs a CUDA device" "$work/smoke.log" \
  "${run[@]}" deploy/gpu_smoke.sh --out "$work/build"
echo "gpu_build_check: deploy/gpu_smoke.sh builds and links from the bundle; no GPU here (exit 3, as expected)"
expect_exit 3 "needs a CUDA device" "$work/check.log" \
  "${run[@]}" deploy/gpu_check.sh --build "$work/build" --out "$work/check"
echo "gpu_build_check: deploy/gpu_check.sh builds; no GPU here (exit 3, as expected)"
expect_exit 0 "gpu_check: cpu" "$work/dry_run.log" \
  "${run[@]}" deploy/gpu_check.sh --cpu --build "$work/build" --out "$work/dry_run"
grep -E "^\| (separate|colocated|build|C\+\+|Python)" "$work/dry_run.log"
echo "gpu_build_check: deploy/gpu_check.sh --cpu (the dry run) passes"
