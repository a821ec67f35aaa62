#!/usr/bin/env bash
# A hung rank ends the job: the tiny RLHF job (2 learners + 1 rollout worker)
# with topology.collective_timeout_seconds: 8; once it trains, one rank is
# stopped with SIGSTOP (as a deadlocked library or a stuck device would leave
# it), a learner in one run and the rollout worker in another. The ranks
# waiting for it must end the job within the timeout plus a few seconds,
# exit non-zero, naming their rank, host, the call they waited in and for how
# long, and leave no rank behind (the stopped one included).
set -uo pipefail
trainer=$1
mpirun_local=$2
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }
timeout_s=8

for role in "learner 1" "rollout 2"; do
  read -r name rank <<<"$role"
  e2e job rlhf_tiny name="hang_$name" seed=5 output_dir="$work/out_$name" \
    learners=2 rollouts=1 task=sort eval_prompts=16 sft_steps=30 rounds=40 \
    topology_extra="collective_timeout_seconds: $timeout_s" \
    extra="logging { progress: false }" >"$work/hang_$name.pbtxt"
  ( timeout --kill-after=5 300 "$mpirun_local" -np 3 "$trainer" \
      --job="$work/hang_$name.pbtxt" --threads_per_rank=1 >"$work/$name.log" 2>&1
    echo $? >"$work/$name.code" ) &
  for _ in $(seq 600); do
    [[ -s "$work/out_$name/metrics.jsonl" ]] && break
    sleep 0.1
  done
  victim=$(job_pids "$work/hang_$name.pbtxt" metarm_train "$rank")
  check "the $name (rank $rank) was found running" test -n "$victim"
  kill -STOP "$victim"
  stopped_at=$(date +%s)
  wait
  elapsed=$(($(date +%s) - stopped_at))
  code=$(cat "$work/$name.code")
  out=$(cat "$work/$name.log")
  echo "SIGSTOP on the $name (rank $rank): the job ended after $elapsed s (timeout $timeout_s s), exit $code"
  grep "did not complete" <<<"$out"
  check "stopping the $name ends the job within the timeout + 10 s ($elapsed s)" \
    test "$elapsed" -le $((timeout_s + 10))
  check "stopping the $name: the job did not end before the timeout" \
    test "$elapsed" -ge "$timeout_s"
  check "stopping the $name: exit non-zero" test "$code" -ne 0
  check "stopping the $name: a waiting rank names itself, its host and the call" \
    grep -qE "metarm: rank [0-9] \(host [^)]+\) failed: MPI_[A-Za-z_]+ .*on group '[a-z_]+' \(rank [0-9] of [0-9]\) did not complete within the collective timeout of ${timeout_s}s \(topology.collective_timeout_seconds; waited [0-9]+ s\)" <<<"$out"
  check "stopping the $name: no rank is left running" \
    test -z "$(pgrep -f -- "--job=$work/hang_$name.pbtxt")"
  # Whatever happened, nothing stays stopped behind the test.
  pkill -KILL -f -- "--job=$work/hang_$name.pbtxt" 2>/dev/null
done

finish_checks hung_rank
