# Shared by the deploy/ scripts: the repository root and mpirun settings.
# shellcheck shell=bash
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# mpirun refuses to run as root unless told; containers and CI run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# bazel_progress LABEL COMMAND [ARGS...]: bazel COMMAND ARGS with its progress
# as plain lines at least every 20 s (deploy/progress.py), on a terminal or in
# a log alike.
bazel_progress() {
  local label=$1 command=$2
  shift 2
  /usr/bin/python3 "$repo_root/deploy/progress.py" --label "$label" -- \
    bazel "$command" --curses=no --color=no --show_progress_rate_limit=5 "$@"
}

# Durations on 2 cores, said before the long steps start (measured:
# docs/PERFORMANCE.md, "The first build and the first test run"; the first
# test run: the 26 min the CI's cold build took on a 2-core machine without
# AVX2 plus the 36 min of a later run there; the first build was measured
# on a faster machine).
first_build_minutes=11
first_test_minutes=65
later_test_minutes=36

# trainer_or_build [PATH]: prints PATH if given (a prebuilt metarm_train);
# otherwise builds metarm_train with -c opt (its progress on stderr) and
# prints where it is.
trainer_or_build() {
  if [[ -n "${1:-}" ]]; then
    echo "$1"
    return
  fi
  "$repo_root/deploy/setup.sh" >&2 || return 1
  bazel_progress build build -c opt --ui_event_filters=-info,-stdout \
    //trainer:metarm_train >&2 || return 1
  echo bazel-bin/trainer/metarm_train
}
