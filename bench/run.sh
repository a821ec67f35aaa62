#!/usr/bin/env bash
# Every benchmark in one go, built with -c opt: the learner's steps and
# generation against this machine's GEMM peak (bench/learner_bench.cc), the
# same steps in Python PyTorch (bench/python_peer.py), and the collectives
# against plain MPI calls under mpirun -np 2 (bench/comm_bench.cc). Prints a
# table and writes bench/out/results.json (one entry per figure: name,
# value, unit, shapes, check). docs/PERFORMANCE.md defines every figure.
#
#   bench/run.sh            d_model 128 and 512, 4 layers, 128 tokens
#   bench/run.sh --quick    the same shapes, fewer repetitions (< 3 minutes)
#   bench/run.sh --smoke    tiny shapes, seconds; the test suite runs this
#
# Exit 1 if any benchmark's own correctness check failed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
source deploy/common.sh
mode=full
out_dir=bench/out
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --out) out_dir=$2; shift ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case $mode in
  full)  learner=(--sizes=128,512 --layers=4 --seq=128 --batch=16 --new_tokens=128 --repeats=5)
         comm=(--d_model=512 --layers=4 --repeats=10) ;;
  quick) learner=(--sizes=128,512 --layers=4 --seq=128 --batch=16 --new_tokens=128 --repeats=2)
         comm=(--d_model=512 --layers=4 --repeats=3) ;;
  smoke) learner=(--sizes=32 --layers=1 --seq=16 --batch=4 --new_tokens=8 --repeats=1 --gemm=128)
         comm=(--d_model=32 --layers=1 --repeats=1) ;;
esac
threads=${METARM_BENCH_THREADS:-$(nproc)}
mkdir -p "$out_dir"
lines="$out_dir/lines.jsonl"
: >"$lines"

if [[ -n "${METARM_BENCH_BIN:-}" ]]; then
  bin=$METARM_BENCH_BIN  # prebuilt binaries (the test suite's)
else
  bazel_progress build build -c opt //bench:metarm_learner_bench //bench:metarm_comm_bench >&2
  bin=$(bazel info -c opt bazel-bin 2>/dev/null)/bench
fi

python_args=()
for arg in "${learner[@]}"; do
  case $arg in --gemm=*) ;; --*=*) python_args+=("${arg%%=*}" "${arg#*=}") ;; esac
done
# C++ and Python alternate (twice in the full run) and each figure keeps its
# best value: the machine is shared, and a burst of load during one side's
# turn would otherwise decide the ratio.
passes=$([[ $mode == full ]] && echo 2 || echo 1)
for pass in $(seq "$passes"); do
  echo "bench/run.sh ($mode): learner steps, $threads threads (pass $pass)" >&2
  "$bin/metarm_learner_bench" "${learner[@]}" --threads="$threads" >>"$lines"
  echo "bench/run.sh ($mode): the Python peer (pass $pass)" >&2
  /usr/bin/python3 bench/python_peer.py "${python_args[@]}" --threads "$threads" >>"$lines"
done
echo "bench/run.sh ($mode): collectives, mpirun -np 2" >&2
deploy/mpirun_local.sh -np 2 "$bin/metarm_comm_bench" "${comm[@]}" >>"$lines"

/usr/bin/python3 bench/summarize.py "$lines" "$out_dir/results.json" \
  --machine "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  --command "bench/run.sh $(echo "$@")" --mode "$mode"
