# A cluster of N "nodes" on this one machine, for the tests (sourced; root).
# Each node is a Linux network namespace with one address on a private
# network (10.203.0.0/24) that exists only inside the cluster's namespaces:
# the nodes' links (veth pairs) meet at a bridge in a namespace of its own,
# so nothing is added to the machine's own network. Processes started on a
# node (node_exec.sh, the launch agent mpirun uses in place of ssh) get the
# node's host name, an /etc/hosts that names every node, and a node-local
# folder at "$cluster_dir/node_local". The rest of the filesystem is shared,
# as a cluster shares its storage.
#
#   cluster_unsupported          why this machine cannot make the cluster
#                                (not root, no iproute2, namespaces refused);
#                                says nothing when it can
#   start_cluster N [RATE_MBIT]  nodes node0 .. node<N-1>; with RATE_MBIT,
#                                every node's outgoing link is capped to that
#                                many Mbit/s (a tbf queue)
#   stop_cluster                 kills whatever runs on the nodes and removes
#                                the namespaces (their links go with them)
#   on_node NODE COMMAND...      runs COMMAND (arguments kept as given) on NODE
#   exec_on_node NODE COMMAND... the same in place of this (sub)shell: a
#                                daemon started with it in the background has
#                                the background job's pid
#   node_namespace NODE          the node's network namespace
#   "$cluster_mpirun" ARGS...    mpirun, started on node0, placing ranks on the
#                                nodes by the cluster's hostfile: TCP between
#                                nodes, shared memory within one (a program)
#   node_link NODE up|down       brings a node's link up or down
#   cluster_namespaces           this shell's cluster's namespaces, one per line
# A cluster left by a test that was killed (its owner's pid gone) is removed
# by the next start_cluster.
# shellcheck shell=bash

cluster_subnet=10.203.0.0/24
cluster_dir=""
cluster_prefix=""
cluster_agent=$(realpath "$(dirname "${BASH_SOURCE[0]}")/node_exec.sh")

cluster_namespaces() {  # also after stop_cluster: what it left, if anything
  ip netns list | awk '{print $1}' | grep -E "^mtc$$(sw|n[0-9]+)$" || true
}

remove_namespaces() {  # remove_namespaces PREFIX (mtc<pid>)
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$1(sw|n[0-9]+)$" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
}

remove_stale_clusters() {
  local ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^mtc[0-9]+' || true); do
    pid=$(sed -E 's/^mtc([0-9]+).*/\1/' <<<"$ns")
    kill -0 "$pid" 2>/dev/null || remove_namespaces "mtc${pid}"
  done
  local dir
  for dir in /tmp/metarm-cluster.*; do
    [[ -f "$dir/owner" ]] && ! kill -0 "$(cat "$dir/owner")" 2>/dev/null && rm -rf "$dir"
  done
  return 0
}

cluster_unsupported() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "the test cluster needs root (network namespaces), and this is uid $(id -u)"
  elif ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
    echo "the test cluster needs iproute2 (ip, tc): deploy/setup.sh installs it"
  elif ! unshare --net --uts --mount true 2>/dev/null; then
    echo "this machine refuses new network, UTS or mount namespaces" \
      "($(unshare --net --uts --mount true 2>&1 | head -n 1))"
  fi
}

start_cluster() {
  local nodes=$1 rate_mbit=${2:-}
  local unsupported
  unsupported=$(cluster_unsupported)
  if [[ -n "$unsupported" ]]; then
    echo "cluster: $unsupported"
    return 1
  fi
  remove_stale_clusters
  # Interface names may not exceed 15 bytes: mtc<pid>h<i> fits.
  cluster_prefix="mtc$$"
  cluster_dir=$(mktemp -d /tmp/metarm-cluster.XXXXXX)
  echo $$ >"$cluster_dir/owner"
  : >"$cluster_dir/nodes"
  : >"$cluster_dir/hostfile"
  printf '127.0.0.1 localhost\n' >"$cluster_dir/hosts"
  mkdir "$cluster_dir/node_local"
  local switch="${cluster_prefix}sw"
  ip netns add "$switch" &&
    ip -n "$switch" link add br0 type bridge &&
    ip -n "$switch" link set br0 up || return 1
  local i
  for ((i = 0; i < nodes; i++)); do
    local ns="${cluster_prefix}n$i" address="10.203.0.$((i + 1))"
    ip netns add "$ns" &&
      ip link add "${cluster_prefix}h$i" type veth peer name "${cluster_prefix}s$i" &&
      ip link set "${cluster_prefix}h$i" netns "$ns" &&
      ip link set "${cluster_prefix}s$i" netns "$switch" &&
      ip -n "$switch" link set "${cluster_prefix}s$i" master br0 &&
      ip -n "$switch" link set "${cluster_prefix}s$i" up &&
      ip -n "$ns" link set lo up &&
      ip -n "$ns" link set "${cluster_prefix}h$i" name eth0 &&
      ip -n "$ns" addr add "$address/24" dev eth0 &&
      ip -n "$ns" link set eth0 up || return 1
    if [[ -n "$rate_mbit" ]]; then
      # The bucket holds 10 ms of traffic (at least 64 KiB): bursts stay
      # short beside the transfers measured through the link; the queue
      # holds 20 ms, a switch's buffer rather than a deep one.
      local burst=$((rate_mbit * 1000000 / 8 / 100))
      ((burst < 65536)) && burst=65536
      tc -n "$ns" qdisc replace dev eth0 root tbf rate "${rate_mbit}mbit" \
        burst "$burst" latency 20ms || return 1
    fi
    mkdir -p "$cluster_dir/local/node$i"
    echo "node$i $address $ns" >>"$cluster_dir/nodes"
    echo "node$i slots=64" >>"$cluster_dir/hostfile"
    echo "$address node$i" >>"$cluster_dir/hosts"
  done
  export METARM_CLUSTER_NODES="$cluster_dir/nodes"
  write_cluster_mpirun
  # The links are up when every node reaches the last one.
  local last="10.203.0.$nodes"
  for ((i = 0; i < nodes; i++)); do
    local reached=""
    for _ in $(seq 50); do
      # A refused connection (to the discard port, closed) means the
      # address answered.
      if on_node "node$i" bash -c \
        "timeout 1 bash -c 'exec 3<>/dev/tcp/$last/9' 2>&1 | grep -q refused"; then
        reached=1
        break
      fi
      sleep 0.1
    done
    [[ -n "$reached" ]] || { echo "cluster: node$i cannot reach $last"; return 1; }
  done
}

stop_cluster() {
  [[ -n "$cluster_prefix" ]] && remove_namespaces "$cluster_prefix"
  [[ -n "$cluster_dir" ]] && rm -rf "$cluster_dir"
  cluster_dir=""
  cluster_mpirun=""
  return 0
}

# The agent joins its words for a shell, as ssh does: quote them, and let the
# shell exec the command so that a signal to the agent's pid reaches it.
on_node() {  # on_node NODE COMMAND...
  "$cluster_agent" "$1" "exec $(printf '%q ' "${@:2}")"
}

exec_on_node() {  # exec_on_node NODE COMMAND...
  exec "$cluster_agent" "$1" "exec $(printf '%q ' "${@:2}")"
}

node_namespace() {  # node_namespace NODE
  awk -v n="$1" '$1 == n {print $3}' "$cluster_dir/nodes"
}

# cluster_mpirun is a program (so that timeout can run it): mpirun on node0,
# in place of itself (a signal to it reaches mpirun), with the nodes in a
# hostfile, the launch agent in place of ssh, TCP between the nodes (two
# connections per pair of ranks, or $METARM_CLUSTER_TCP_LINKS: with one, the
# two directions of an all-reduce often take turns, see docs/cluster.md) and
# shared memory within one, and Open MPI's daemons watching each other's
# connections by TCP keepalive (idle 2 s, then 3 probes 1 s apart) so that a
# silent node is noticed in seconds, not the default 8 minutes.
write_cluster_mpirun() {
  cat >"$cluster_dir/mpirun" <<SCRIPT
#!/usr/bin/env bash
export METARM_CLUSTER_NODES=$cluster_dir/nodes
exec $cluster_agent node0 "exec mpirun --allow-run-as-root --oversubscribe \
  --bind-to none --hostfile $cluster_dir/hostfile --mca plm_rsh_agent $cluster_agent \
  --mca btl self,vader,tcp --mca btl_vader_single_copy_mechanism none \
  --mca btl_tcp_if_include $cluster_subnet --mca oob_tcp_if_include $cluster_subnet \
  --mca btl_tcp_links \${METARM_CLUSTER_TCP_LINKS:-2} --mca oob_tcp_keepalive_time 2 \
  --mca oob_tcp_keepalive_intvl 1 --mca oob_tcp_keepalive_probes 3 \
  \$(printf '%q ' "\$@")"
SCRIPT
  chmod +x "$cluster_dir/mpirun"
  cluster_mpirun=$cluster_dir/mpirun
}

node_link() {  # node_link NODE up|down
  ip -n "$(node_namespace "$1")" link set eth0 "$2"
}
