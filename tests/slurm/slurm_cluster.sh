# A one-machine Slurm cluster in a scratch folder, for the tests (sourced).
#   start_slurm SCRATCH [nodes]
#                         starts munged, slurmctld and slurmd (logs end up in
#                         SCRATCH), waits for the node(s); returns non-zero,
#                         with the daemons' logs printed, when they do not
#                         come up. With "nodes": on the running test cluster
#                         of tests/cluster/netns_cluster.sh, slurmctld on
#                         node0 and one slurmd on every node, each with its
#                         spool and TmpFS on the node's own folder
#   slurm_client CMD...   runs a Slurm command (sbatch, squeue, scontrol,
#                         scancel, sacct, sinfo) where it reaches slurmctld:
#                         here, or on node0 of the test cluster
#   job_field ID FIELD    a field of `scontrol show job ID`
#   wait_for_state ID SECONDS STATE...
#                         waits until the job is in one of the states
#   stop_slurm            stops every daemon start_slurm started, by pid
#                         (their pids are then in stopped_slurm_pids)
# Exports SLURM_CONF so that the Slurm commands find it. Finished jobs are
# recorded by jobcomp/filetxt, which `sacct --completion` reads.
# shellcheck shell=bash

slurm_pids=()
stopped_slurm_pids=()
munge_dir=""
slurm_on_nodes=""

slurm_client() {
  if [[ -n "$slurm_on_nodes" ]]; then on_node node0 "$@"; else "$@"; fi
}

slurm_logs() {
  for log in "$slurm_dir"/*.log; do
    echo "--- $log"
    tail -n 30 "$log"
  done
}

job_field() {  # job_field ID FIELD: a field of scontrol show job
  slurm_client scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | grep "^$2=" |
    head -n 1 | cut -d= -f2
}

wait_for_state() {  # wait_for_state ID SECONDS STATE...
  local id=$1 seconds=$2
  shift 2
  for _ in $(seq $((seconds * 5))); do
    local state
    state=$(job_field "$id" JobState)
    for wanted in "$@"; do [[ "$state" == "$wanted" ]] && return 0; done
    sleep 0.2
  done
  return 1
}

# slurm_daemon NODE COMMAND... (in the background): the daemon takes the
# background job's pid, so that stop_slurm can stop it. NODE "local" is this
# machine.
slurm_daemon() {
  local node=$1
  shift
  [[ "$node" == local ]] && exec "$@"
  exec_on_node "$node" "$@"
}

start_slurm() {
  # slurmd's Unix sockets live in its spool folder, and a socket path may
  # not exceed 108 bytes: the cluster's files go to a short folder under
  # /tmp; stop_slurm copies its logs into SCRATCH and removes it.
  slurm_scratch=$1
  slurm_on_nodes=${2:-}
  mkdir -p "$slurm_scratch"
  slurm_dir=$(mktemp -d /tmp/metarm-slurm.XXXXXX)
  mkdir -p "$slurm_dir/state" "$slurm_dir/spool" "$slurm_dir/tmp"
  local host
  host=$(hostname -s)
  # munged runs as munge, which may not enter the test's scratch folder:
  # its files live in a folder of its own under /tmp, with a fresh key.
  munge_dir=$(mktemp -d /tmp/metarm-munge.XXXXXX)
  dd if=/dev/urandom of="$munge_dir/munge.key" bs=1024 count=1 status=none
  chown -R munge:munge "$munge_dir"
  chmod 700 "$munge_dir"
  chmod 400 "$munge_dir/munge.key"
  runuser -u munge -- /usr/sbin/munged --foreground --force \
    --key-file="$munge_dir/munge.key" \
    --socket="$munge_dir/munge.socket" \
    --pid-file="$munge_dir/munged.pid" \
    --seed-file="$munge_dir/munged.seed" \
    --log-file="$munge_dir/munged.log" >"$slurm_dir/munged.out.log" 2>&1 &
  slurm_pids+=($!)
  # Ports of our own, so that another cluster on the machine does not clash.
  local base=$((20000 + RANDOM % 20000))
  # On the test cluster: the controller on node0, a slurmd on every node,
  # each keeping its spool, pid file and step folders (TmpFS) on the node's
  # own folder, as on separate machines (the same paths would clash).
  local controller=$host spool=$slurm_dir/spool tmpfs=$slurm_dir/tmp
  local slurmd_pid=$slurm_dir/slurmd.pid slurmd_log=$slurm_dir/slurmd.log
  local node_lines="NodeName=$host CPUs=4 State=UNKNOWN"
  if [[ -n "$slurm_on_nodes" ]]; then
    controller="node0($(awk '$1 == "node0" {print $2}' "$cluster_dir/nodes"))"
    spool=$cluster_dir/node_local/spool
    tmpfs=$cluster_dir/node_local/tmp
    slurmd_pid=$cluster_dir/node_local/slurmd.pid
    slurmd_log=$slurm_dir/slurmd-%n.log
    node_lines=$(awk '{print "NodeName=" $1 " NodeAddr=" $2 " CPUs=4 State=UNKNOWN"}' "$cluster_dir/nodes")
    local node
    for node in "$cluster_dir"/local/*; do mkdir -p "$node/spool" "$node/tmp"; done
  fi
  cat >"$slurm_dir/slurm.conf" <<CONF
ClusterName=metarmtest
SlurmctldHost=$controller
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# cred_expire is also how long a requeued job waits before it may start
# again (default 120 s); 20 s keeps the pre-emption test short.
AuthInfo=socket=$munge_dir/munge.socket,cred_expire=20
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
StateSaveLocation=$slurm_dir/state
SlurmdSpoolDir=$spool
# srun --mpi=pmix makes each step's PMIx folder (spmix_appdir_<uid>_<job>.<step>)
# under TmpFS. Every test cluster numbers its jobs from 1, so under the
# default /tmp a folder left by a killed earlier cluster makes the first
# step's launch fail ("task 0 launch failed"): each cluster has its own.
TmpFS=$tmpfs
SlurmctldPidFile=$slurm_dir/slurmctld.pid
SlurmdPidFile=$slurmd_pid
SlurmctldLogFile=$slurm_dir/slurmctld.log
SlurmdLogFile=$slurmd_log
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=5
MinJobAge=600
JobCompType=jobcomp/filetxt
JobCompLoc=$slurm_dir/jobcomp.txt
$node_lines
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  export SLURM_CONF=$slurm_dir/slurm.conf
  for _ in $(seq 50); do [[ -S "$munge_dir/munge.socket" ]] && break; sleep 0.1; done
  # runuser's child is munged itself: stop it by its own pid too.
  [[ -s "$munge_dir/munged.pid" ]] && slurm_pids+=("$(cat "$munge_dir/munged.pid")")
  if [[ ! -S "$munge_dir/munge.socket" ]]; then
    echo "slurm: munged did not start"
    cp "$munge_dir/munged.log" "$slurm_dir/munged.log" 2>/dev/null
    slurm_logs
    return 1
  fi
  local nodes=(local)
  [[ -n "$slurm_on_nodes" ]] && mapfile -t nodes < <(awk '{print $1}' "$cluster_dir/nodes")
  slurm_daemon "${nodes[0]}" /usr/sbin/slurmctld -D -i -f "$SLURM_CONF" \
    >"$slurm_dir/slurmctld.out.log" 2>&1 &
  slurm_pids+=($!)
  local node
  for node in "${nodes[@]}"; do
    slurm_daemon "$node" /usr/sbin/slurmd -D -f "$SLURM_CONF" \
      >"$slurm_dir/slurmd-$node.out.log" 2>&1 &
    slurm_pids+=($!)
  done
  for _ in $(seq 150); do
    if [[ "$(slurm_client sinfo -h -N -o %t 2>/dev/null | grep -c '^idle')" -eq ${#nodes[@]} ]]; then
      return 0
    fi
    sleep 0.2
  done
  echo "slurm: the nodes did not come up within 30 s; sinfo: $(slurm_client sinfo -N 2>&1)"
  slurm_logs
  return 1
}

stop_slurm() {
  local pid
  for pid in "${slurm_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${slurm_pids[@]}"; do
    wait "$pid" 2>/dev/null
    # munged is not this shell's child: wait for it to go.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  stopped_slurm_pids=("${slurm_pids[@]}")
  slurm_pids=()
  [[ -n "${munge_dir:-}" ]] && rm -rf "$munge_dir"
  munge_dir=""
  if [[ -n "${slurm_dir:-}" ]]; then
    cp "$slurm_dir"/*.log "$slurm_scratch/" 2>/dev/null
    rm -rf "$slurm_dir"
  fi
  slurm_dir=""
}
