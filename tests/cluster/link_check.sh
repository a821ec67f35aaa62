#!/usr/bin/env bash
# The alpha-beta model of bench/scaling_model.py through a link of known
# bandwidth (root):
#   tests/cluster/link_check.sh RATE_MBIT COMM_BENCH [REPEATS [TOLERANCE [MPIRUN_ARGS...]]]
# starts a two-node test cluster (netns_cluster.sh) with every node's link
# capped at RATE_MBIT Mbit/s, runs COMM_BENCH (bench/comm_bench.cc, e.g.
# bazel-bin/bench/metarm_comm_bench) with one rank on each node at
# d_model 256, 2 layers (7.0 MB of float32 weights), REPEATS timed calls per
# figure (default 5), and compares its figures with the model's
# (bench/link_model_check.py, TOLERANCE default 0.15). Exit status: the
# check's. METARM_CLUSTER_TCP_LINKS (default 2): TCP connections per pair of
# ranks; MPIRUN_ARGS go to mpirun (e.g. Open MPI's --mca settings). The
# cluster is removed at the end.
set -uo pipefail
rate_mbit=$1
comm_bench=$(realpath "$2")
repeats=${3:-5}
tolerance=${4:-0.15}
shift $(($# < 4 ? $# : 4))
here=$(cd "$(dirname "$0")" && pwd)
bench_dir=$(cd "$here/../../bench" && pwd)
source "$here/netns_cluster.sh"
trap stop_cluster EXIT
start_cluster 2 "$rate_mbit" || exit 1
lines=$(mktemp)
trap 'stop_cluster; rm -f "$lines"' EXIT
if ! timeout --kill-after=5 300 "$cluster_mpirun" -np 2 --map-by ppr:1:node "$@" \
  "$comm_bench" --d_model=256 --layers=2 --repeats="$repeats" >"$lines"; then
  echo "link_check.sh: $comm_bench failed across the capped link" >&2
  exit 1
fi
/usr/bin/python3 "$bench_dir/link_model_check.py" --rate_mbit "$rate_mbit" \
  --tolerance "$tolerance" "$lines"
