#!/usr/bin/env bash
# A real one-machine Slurm cluster (munged, slurmctld, slurmd from Debian's
# packages, configured in a scratch folder): the quickstart job, shortened,
# submitted through deploy/slurm/metarm.sbatch with 3 tasks runs to the end;
# the same job sent SIGUSR1 (pre-emption) stops with a checkpoint, is requeued and ends
# with an uninterrupted run's numbers; a long job cancelled with scancel
# stops cleanly, leaving no rank behind; a 3-point scaling sweep runs as one
# job array (experiments/scaling/sweep.py --slurm), each task sized to its
# point, and its report lists the point made to fail.
# Every daemon started here is stopped by its pid. If the daemons cannot
# start, the test fails and prints their logs.
set -uo pipefail
trainer=$(realpath "$1")
sbatch_script=$(realpath "$2")
job=$(realpath "$3")
plan_tool=$(realpath "$4")
sweep_base_job=$(realpath "$5")
work=${TEST_TMPDIR:-$(mktemp -d)}
runfiles=$PWD
# From the repository root (or the runfiles root under bazel test).
source tests/check_lib.sh
source tests/slurm/slurm_cluster.sh
e2e_py=$(realpath tests/e2e.py)
trap stop_slurm EXIT

if ! start_slurm "$work/slurm"; then
  echo "slurm: FAILED to start the daemons (logs above)"
  exit 1
fi

# --- The quickstart job, shortened, through sbatch, 3 tasks, srun
# --mpi=pmix; its run is also the uninterrupted reference of the
# pre-emption below. ----------------------------------------------------------
cd "$work" || exit 1
shortened_quickstart "$job" >"$work/short.pbtxt"
id=$(METARM_TRAINER=$trainer sbatch --parsable --ntasks=3 \
  --output="$work/short-%j.out" "$sbatch_script" "$work/short.pbtxt" "$work/out_whole")
check "sbatch accepts the job" test -n "$id"
wait_for_state "$id" 300 COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL
out=$(cat "$work/short-$id.out" 2>/dev/null)
code=$(job_field "$id" ExitCode)
state=$(job_field "$id" JobState)
if [[ "$state" != COMPLETED ]]; then
  scontrol show job "$id"
  slurm_logs
fi
check "the job completes ($state)" test "$state" == COMPLETED
check "exit code 0:0" test "$code" == "0:0"
check "3 ranks under srun" has "3 ranks, 2 learners and 1 rollout worker"
check "rounds.jsonl has rounds 0-2" test "$(wc -l <"$work/out_whole/rounds.jsonl" 2>/dev/null)" -eq 3
check "the final policy is saved" test -s "$work/out_whole/policy.pt"

# --- Pre-emption: SIGUSR1 (what --signal=USR1@120 sends before the time
# limit) stops the run at its next safe point with a checkpoint and exit 3;
# metarm.sbatch requeues the job, which continues from the checkpoint and
# ends with the numbers of the uninterrupted run above. --------------------
id=$(METARM_TRAINER=$trainer sbatch --parsable --ntasks=3 --open-mode=append \
  --output="$work/preempted-%j.out" "$sbatch_script" "$work/short.pbtxt" "$work/out_preempted")
wait_for_state "$id" 60 RUNNING
for _ in $(seq 600); do [[ -s "$work/out_preempted/metrics.jsonl" ]] && break; sleep 0.2; done
check "the pre-empted job is training" test -s "$work/out_preempted/metrics.jsonl"
# scancel's request can time out on a loaded machine: its exit code is
# checked and the request repeated (a second SIGUSR1 changes nothing).
for _ in 1 2 3; do
  out=$(scancel --signal=USR1 "$id" 2>&1) && code=0 && break
  code=$?
  sleep 1
done
check "scancel sends SIGUSR1 to the job's ranks" test "$code" -eq 0
# Slurm holds a requeued job until a begin time a little in the future (so
# that the old run's step is gone everywhere before the new one starts).
wait_for_state "$id" 120 PENDING
out=$(scontrol show job "$id" 2>&1)
check "the stopped job was requeued" test "$(job_field "$id" Restarts)" -ge 1
requeued_at=$(date +%s)
wait_for_state "$id" 600 RUNNING COMPLETED
echo "the requeued job started $(($(date +%s) - requeued_at)) s after it was requeued"
wait_for_state "$id" 300 COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL
out=$(cat "$work/preempted-$id.out" 2>/dev/null)
# The signal may land in a PPO iteration of round 1 (where it usually
# does), or, on a slow machine, in round 2's reward-model training: the
# run stops at the safe point that follows, wherever that is.
stopped_at=$(grep -oE "stopped by SIGUSR1 (after round [0-9]+, [0-9]+ PPO iterations done|inside round [0-9]+'s reward-model training, [0-9]+ steps done)" <<<"$out")
echo "pre-emption under Slurm: ${stopped_at:-no stop message}; then $(job_field "$id" JobState)"
check "the run stopped for SIGUSR1, saying where" test -n "$stopped_at"
check "the script requeued it" has "requeueing job $id"
position=${stopped_at#stopped by SIGUSR1 }
check "the requeued run resumed where it stopped" \
  has "resuming from the checkpoint in $work/out_preempted/checkpoints: ${position#after }"
check "the requeued job completes" test "$(job_field "$id" JobState)" == COMPLETED
check "pre-empted and requeued: the same numbers as uninterrupted" \
  /usr/bin/python3 "$e2e_py" same "$work/out_whole" "$work/out_preempted" \
  metrics.jsonl rounds.jsonl reward_model.jsonl reward_steps.jsonl eval_samples.jsonl
check "pre-empted and requeued: the same final policy" \
  cmp -s "$work/out_whole/policy.pt" "$work/out_preempted/policy.pt"

# --- A long job cancelled with scancel stops cleanly. ---------------------
sed -e 's/^rounds: 2/rounds: 50/' -e 's/steps: 600/steps: 50/' "$job" >"$work/long.pbtxt"
id=$(METARM_TRAINER=$trainer sbatch --parsable --ntasks=3 \
  --output="$work/long-%j.out" "$sbatch_script" "$work/long.pbtxt" "$work/out_long")
wait_for_state "$id" 60 RUNNING
for _ in $(seq 600); do [[ -s "$work/out_long/metrics.jsonl" ]] && break; sleep 0.2; done
check "the long job is training" test -s "$work/out_long/metrics.jsonl"
cancelled_at=$(date +%s)
scancel "$id"
wait_for_state "$id" 60 CANCELLED
stopped=0
for _ in $(seq 150); do
  if ! pgrep -f -- "--output_dir=$work/out_long" >/dev/null; then stopped=1; break; fi
  sleep 0.2
done
elapsed=$(($(date +%s) - cancelled_at))
out=$(cat "$work/long-$id.out" 2>/dev/null)
echo "scancel: the job was CANCELLED and its ranks gone after $elapsed s"
check "scancel leaves the job CANCELLED" test "$(job_field "$id" JobState)" == CANCELLED
check "no rank is left running" test "$stopped" -eq 1
check "the last checkpoint is complete" test -n "$(ls "$work/out_long/checkpoints" | grep -v tmp)"

# --- A scaling sweep as one job array: 3 points of 2, 3 and 2 ranks, the
# last one too large for memory (its trainer refuses it: exit 2). ---------
cat >"$work/grid.pbtxt" <<GRID
name: "arraytest"
base_job: "$sweep_base_job"
axis {
  name: "case"
  value { label: "1+1" set { field: "topology" value: "{ learner_ranks: 1 rollout_ranks: 1 }" } }
  value { label: "2+1" set { field: "topology" value: "{ learner_ranks: 2 rollout_ranks: 1 }" } }
  value {
    label: "huge"
    set { field: "topology" value: "{ learner_ranks: 1 rollout_ranks: 1 }" }
    set { field: "policy" value: "{ d_model: 8192 n_layers: 48 n_heads: 64 }" }
  }
}
GRID
sweep_dir=$work/sweep
out=$(/usr/bin/python3 "$runfiles/experiments/scaling/sweep.py" --slurm "$work/grid.pbtxt" \
  --output_dir "$sweep_dir" --trainer "$trainer" --plan_tool "$plan_tool" \
  --no_calibration --wait 2>&1)
code=$?
echo "$out"
check "the sweep with a failed point exits 1" test "$code" -eq 1
check "one array of 3 tasks" has "tasks 0,1,2"
check "the failed point is named with its exit code" has "case-huge: failed (exit code 2)"
array_id=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['array_job_id'])" "$sweep_dir/slurm_array.json")
for point in 1+1:2 2+1:3 huge:2; do
  name=case-${point%:*}
  ranks=${point#*:}
  out=$(cat "$sweep_dir/points/$name/log.txt" 2>/dev/null)
  check "$name ran as a task of array $array_id" has "=== sweep: array task ${array_id}_"
  check "$name: its task was sized to $ranks ranks" has "metarm.sbatch: job "
  check "$name: srun started $ranks ranks" grep -q "metarm.sbatch: job [0-9]*, $ranks ranks on" <<<"$out"
done
out=$(cat "$sweep_dir/points/case-2+1/log.txt")
check "the 3-rank point ran 3 ranks" has "3 ranks, 2 learners and 1 rollout worker"
out=$(cat "$sweep_dir/points/case-1+1/log.txt")
check "the 2-rank point ran 2 ranks" has "2 ranks, 1 learner and 1 rollout worker"
out=$(cat "$sweep_dir/report.md")
check "the report has the two completed points" test "$(count "| completed |")" -eq 2
check "and lists the failure" has "**case-huge**: failed, exit code 2"
check "with the trainer's reason" has "does not fit in memory"

stop_slurm
alive=""
for pid in "${stopped_slurm_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=" $pid"; done
check "every daemon stopped (${#stopped_slurm_pids[@]} pids)" test -z "$alive"
finish_checks slurm
