#!/usr/bin/env bash
# Slurm across two nodes on one machine: the test cluster of
# tests/cluster/netns_cluster.sh (two network namespaces with their own host
# names and addresses), slurmctld and a slurmd on node0, a second slurmd on
# node1 (tests/slurm/slurm_cluster.sh "nodes"). The quickstart job, on 2
# learners and 2 rollout workers with the learners on the first rank of each
# node, goes through deploy/slurm/metarm.sbatch with
# sbatch --nodes=2 --ntasks-per-node=2 (srun --mpi=pmix): it completes, its
# layout table shows two ranks on each node, and Slurm's record of the job
# (sacct --completion, from jobcomp/filetxt) lists both nodes.
# Every daemon is stopped and the cluster removed at the end, also on failure.
# Where this machine cannot make network namespaces the test says why and
# passes.
set -uo pipefail
trainer=$(realpath "$1")
sbatch_script=$(realpath "$2")
job=$(realpath "$3")
work=${TEST_TMPDIR:-$(mktemp -d)}
# From the repository root (or the runfiles root under bazel test).
source tests/check_lib.sh
source tests/cluster/netns_cluster.sh
source tests/slurm/slurm_cluster.sh
trap 'stop_slurm; stop_cluster' EXIT

# Where this machine cannot make network namespaces, say why and pass.
unsupported=$(cluster_unsupported)
if [[ -n "$unsupported" ]]; then
  echo "SKIPPED: $unsupported"
  exit 0
fi

if ! start_cluster 2; then
  echo "FAILED: the test cluster did not start"
  exit 1
fi
if ! start_slurm "$work/slurm" nodes; then
  echo "slurm: FAILED to start the daemons (logs above)"
  exit 1
fi
slurm_client sinfo -N

# The quickstart job with a second rollout worker: 4 ranks, the learners on
# world ranks 0 and 2, the first task of each node under --ntasks-per-node=2.
sed 's/^  rollout_ranks: 1$/  rollout_ranks: 2\n  learner_world_ranks: [0, 2]/' "$job" \
  >"$work/quickstart_4.pbtxt"
check "the job asks for 4 ranks" grep -q "learner_world_ranks: \[0, 2\]" "$work/quickstart_4.pbtxt"

cd "$work"
id=$(slurm_client env METARM_TRAINER="$trainer" sbatch --parsable --nodes=2 \
  --ntasks-per-node=2 --output="$work/two_nodes-%j.out" "$sbatch_script" \
  "$work/quickstart_4.pbtxt" "$work/out_two_nodes")
check "sbatch accepts the job" test -n "$id"
wait_for_state "$id" 600 COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL
out=$(cat "$work/two_nodes-$id.out" 2>/dev/null)
state=$(job_field "$id" JobState)
if [[ "$state" != COMPLETED ]]; then
  echo "$out" | tail -n 40
  slurm_client scontrol show job "$id"
  slurm_logs
fi
echo "$out" | sed -n '/^metarm.sbatch/p; /rank  host/,/^memory/p'
check "the job completes ($state)" test "$state" == COMPLETED
check "exit code 0:0" test "$(job_field "$id" ExitCode)" == "0:0"
check "the batch script saw 2 nodes" has "4 ranks on 2 node(s) (node[0-1])"
check "4 ranks under srun" has "4 ranks, 2 learners and 2 rollout workers"
check_two_node_layout
check "rounds.jsonl has rounds 0-2" \
  test "$(wc -l <"$work/out_two_nodes/rounds.jsonl" 2>/dev/null)" -eq 3
record=$(slurm_client sacct --completion -j "$id" -n -P -o JobID,State,NNodes,NodeList)
echo "sacct --completion: $record"
check "sacct: the job ran on 2 nodes, node0 and node1" \
  grep -qE "^$id\|COMPLETED\|2\|node\[0-1\]$" <<<"$record"

stop_slurm
stop_cluster
check "the cluster's namespaces are gone" test -z "$(cluster_namespaces)"
finish_checks slurm_two_nodes
