# Assertions for the shell end-to-end tests (sourced). A failed check prints
# its name, the last command's exit code ($code) and output ($out), and the
# run goes on; finish_checks prints the totals and sets the exit status.
# shellcheck shell=bash
failures=0
passes=0
out=""
code=0

check() {  # check NAME COMMAND...: passes when COMMAND succeeds
  local name=$1
  shift
  if "$@"; then
    passes=$((passes + 1))
  else
    failures=$((failures + 1))
    echo "FAILED: $name"
    echo "--- exit code $code, output:"
    echo "$out"
    echo "---"
  fi
}

has() { grep -qF -- "$1" <<<"$out"; }        # the output holds this text
count() { grep -cF -- "$1" <<<"$out"; }      # lines of output holding it

# job_pids JOB_FILE COMM [RANK]: the pids of the processes named COMM
# (metarm_train, or mpirun) started with --job=JOB_FILE;
# with RANK, only the rank of that MPI world rank.
job_pids() {
  local p pattern
  # pgrep takes a regular expression: the path's own . + ( ) match literally.
  pattern=$(sed 's/[][\\.*^$+?(){}|]/\\&/g' <<<"--job=$1")
  for p in $(pgrep -f -- "$pattern"); do
    [[ "$(cat /proc/"$p"/comm 2>/dev/null)" == "$2" ]] || continue
    if [[ -z "${3:-}" ]] || tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
      grep -qx "OMPI_COMM_WORLD_RANK=$3"; then echo "$p"; fi
  done
}

finish_checks() {  # finish_checks NAME
  echo "$1: $passes passed, $failures failed"
  test "$failures" -eq 0
}

# check_two_node_layout: the layout table in $out puts ranks 0-1 on node0 and
# 2-3 on node1 (local ranks 0/2 and 1/2), a learner first on each node (the
# test cluster of tests/cluster/).
check_two_node_layout() {
  layout_row() { grep -qE "^  $1 +$2 +$3 +$4" <<<"$out"; }
  check "rank 0: node0, local 0/2, learner 0" layout_row 0 node0 0/2 "learner 0"
  check "rank 1: node0, local 1/2, rollout 0" layout_row 1 node0 1/2 "rollout 0"
  check "rank 2: node1, local 0/2, learner 1" layout_row 2 node1 0/2 "learner 1"
  check "rank 3: node1, local 1/2, rollout 1" layout_row 3 node1 1/2 "rollout 1"
}

# shortened_quickstart FILE: jobs/quickstart.pbtxt with 50 SFT steps, 512
# pairs and 6 PPO iterations a round, on stdout (a run of a few tens of
# seconds on 2 cores in float32).
shortened_quickstart() {
  sed -e 's/steps: 600/steps: 50/' -e 's/iterations_per_round: 20/iterations_per_round: 6/' \
    -e 's/num_preference_pairs: 2048/num_preference_pairs: 512/' "$1"
}
