#!/usr/bin/env bash
# Set-up, then the whole test suite (build included), then the NCCL test
# under --config=cuda.
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
# The SentencePiece test again under -c opt, the configuration runs use: only
# there did an executable hold its own std::cerr, which the deep-bound
# library crashed on (.bazelrc, --force_pic). About 1 min.
if [[ $# -eq 0 ]]; then
  bazel_progress opt-test test -c opt --cache_test_results=no \
    //tasks:sentencepiece_tokenizer_test
fi

# The NCCL backend and its test, and the GPU programs (metarm_train, the
# learner benchmark, the smoke check's library), build and link under
# --config=cuda against /usr/local/cuda (no GPU here: the NCCL test skips
# its GPU part, saying why). The other tests and tools are not rebuilt under
# --config=cuda: 5 min of the CI's 90 on a 2-core machine.
if [[ -d "${METARM_CUDA_HOME:-/usr/local/cuda}/include" ]]; then
  echo "deploy/test.sh: the NCCL test and the GPU programs under --config=cuda"
  bazel_progress cuda-test test --config=cuda --cache_test_results=no \
    //comm:nccl_communicator_test
  bazel_progress cuda-build build --config=cuda //trainer:metarm_train \
    //bench:metarm_learner_bench //deploy/gpu_smoke:gpu_smoke_deps
  # The GPU programs' source list is Bazel's, not kept by hand.
  deploy/gpu/list_sources.sh --check
  # The GPU scripts' Bazel-free build and the GPU check's CPU dry run take
  # 15.5 min more on a 2-core machine without AVX2 (the CI of commit
  # 8185198 ran out of its 90 min there): run with
  # METARM_GPU_BUILD_CHECK=1, or alone as deploy/gpu_build_check.sh, before
  # a GPU session.
  if [[ "${METARM_GPU_BUILD_CHECK:-0}" == 1 ]]; then
    deploy/gpu_build_check.sh
  else
    echo "deploy/test.sh: the GPU scripts' build check is skipped (METARM_GPU_BUILD_CHECK=1 or deploy/gpu_build_check.sh runs it)"
  fi
else
  echo "deploy/test.sh: no CUDA at ${METARM_CUDA_HOME:-/usr/local/cuda}: the --config=cuda build is not checked"
fi
