#!/usr/bin/env bash
# Set-up, then the whole test suite (build included).
#   deploy/test.sh [extra bazel test arguments, e.g. --config=asan]
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$repo_root"
deploy/setup.sh
# Tests always run (no results reused from the disk cache), so CI sees every
# test pass now, not some time before.
bazel test --cache_test_results=no "$@" //...
