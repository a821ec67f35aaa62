#!/usr/bin/env bash
# Set-up, then the whole test suite (build included).
#   deploy/test.sh [extra bazel test arguments, e.g. --config=asan]
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$repo_root"
deploy/setup.sh
bazel test "$@" //...
