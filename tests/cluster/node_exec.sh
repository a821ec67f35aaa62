#!/usr/bin/env bash
# The test cluster's launch agent, in place of ssh (mpirun's plm_rsh_agent):
#   node_exec.sh HOST COMMAND...
# runs COMMAND on HOST, a node of the cluster listed in $METARM_CLUSTER_NODES
# (lines "NAME ADDRESS NETNS", written by netns_cluster.sh), by name or
# address. As with ssh, COMMAND's words are joined by spaces and read by a
# shell: mpirun hands its agent "PATH=...; export PATH; orted -mca ..." that
# way. The command runs in the node's network namespace, in a UTS namespace of
# its own named after the node (so gethostname() says NAME), and in a private
# mount namespace where /etc/hosts is the cluster's (so the nodes' names
# resolve to their addresses) and the cluster's folder node_local/ is the
# node's own (local/NAME/: a node-local disk at the same path on every node,
# for what daemons keep per node). Exit 255 (ssh's code for a connection
# that failed) when HOST is not a node.
set -euo pipefail
host=$1
shift
nodes=${METARM_CLUSTER_NODES:?node_exec.sh: METARM_CLUSTER_NODES is not set}
cluster=$(dirname "$nodes")
while read -r name address netns; do
  if [[ "$host" == "$name" || "$host" == "$address" ]]; then
    exec nsenter --net="/run/netns/$netns" unshare --uts --mount --propagation private \
      /bin/sh -c "hostname $name && mount --bind $cluster/hosts /etc/hosts &&
        mount --bind $cluster/local/$name $cluster/node_local || exit 255; $*"
  fi
done <"$nodes"
echo "node_exec.sh: $host is not a node of the test cluster ($nodes)" >&2
exit 255
