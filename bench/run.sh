#!/usr/bin/env bash
# Every benchmark in one go, built with -c opt: the learner's steps and
# generation against this machine's GEMM peak (bench/learner_bench.cc), each
# C++ timing followed by the same step in Python PyTorch
# (bench/python_peer.py), activation checkpointing's peak memory and time
# (bench/step_options_bench.cc), the generation engine against the static
# sampler (bench/generation_bench.cc), and the collectives against plain MPI
# calls under mpirun -np 2 (bench/comm_bench.cc). Prints a
# table and writes bench/out/results.json (one entry per figure: name, the
# median with min, max, repeats and samples, unit, shapes, check).
# docs/PERFORMANCE.md defines every figure and the method.
#
#   bench/run.sh            d_model 128 and 512, 4 layers, 128 tokens, 12 pairs
#   bench/run.sh --quick    the same shapes, fewer pairs (20 min on a slow day)
#   bench/run.sh --smoke    tiny shapes, seconds; the test suite runs this
#
# Every benchmark runs even when one before it failed. Exit 1 if any
# benchmark's own correctness check failed (named in the table), a benchmark
# ended with an error (named at the end), or a figure broke its physical
# bound (an MFU above 1, a share outside [0, 1]).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
source deploy/common.sh
mode=full
out_dir=bench/out
command="bench/run.sh $*"
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
  full)  learner=(--sizes=128,512 --layers=4 --seq=128 --batch=16 --new_tokens=128 --repeats=12)
         generation=(--d_model=512 --layers=4 --sequences=256 --slots=64 --repeats=3)
         memory=(--d_model=512 --layers=4 --seq=128 --batch=16 --repeats=4)
         comm=(--d_model=512 --layers=4 --repeats=10) ;;
  quick) learner=(--sizes=128,512 --layers=4 --seq=128 --batch=16 --new_tokens=128 --repeats=6)
         generation=(--d_model=512 --layers=4 --sequences=256 --slots=64 --repeats=2)
         memory=(--d_model=512 --layers=4 --seq=128 --batch=16 --repeats=2)
         comm=(--d_model=512 --layers=4 --repeats=5) ;;
  smoke) learner=(--sizes=32 --layers=1 --seq=16 --batch=4 --new_tokens=8 --repeats=3 --gemm=128)
         generation=(--d_model=32 --layers=1 --sequences=16 --slots=4 --max_prompt=12
                     --max_response=12 --k_prompts=3 --k_prompt_tokens=8 --k_max_response=8
                     --context=16 --copy_mb=16 --repeats=2)
         memory=(--d_model=64 --layers=2 --seq=32 --batch=4 --repeats=2)
         comm=(--d_model=32 --layers=1 --repeats=2) ;;
esac
threads=${METARM_BENCH_THREADS:-$(nproc)}
mkdir -p "$out_dir"
lines="$out_dir/lines.jsonl"
: >"$lines"

if [[ -n "${METARM_BENCH_BIN:-}" ]]; then
  bin=$METARM_BENCH_BIN  # prebuilt binaries (the test suite's)
else
  bazel_progress build build -c opt //bench:metarm_learner_bench //bench:metarm_comm_bench \
    //bench:metarm_step_options_bench //bench:metarm_generation_bench >&2
  bin=$(bazel info -c opt bazel-bin 2>/dev/null)/bench
fi

failed=()
bench() {  # bench WHAT COMMAND...: its figures into $lines; a failure is noted
  local what=$1; shift
  echo "bench/run.sh ($mode): $what" >&2
  "$@" >>"$lines" || failed+=("$what (exit $?)")
}
# Every ratio is measured in interleaved pairs (bench/figure.h); the
# Python/C++ ones too: after each timed C++ step the benchmark asks the Python
# peer (its child, bench/python_peer.py --serve) to time the same step once.
bench "learner steps and their Python peer, $threads threads" \
  "$bin/metarm_learner_bench" "${learner[@]}" --threads="$threads" \
  --python_peer=bench/python_peer.py --python=/usr/bin/python3
bench "activation checkpointing's and bf16's memory and time" \
  "$bin/metarm_step_options_bench" "${memory[@]}" --threads="$threads"
bench "the generation engine against the static sampler" \
  "$bin/metarm_generation_bench" "${generation[@]}" --threads="$threads"
bench "collectives, mpirun -np 2" \
  deploy/mpirun_local.sh -np 2 "$bin/metarm_comm_bench" "${comm[@]}"

summary=0
/usr/bin/python3 bench/summarize.py "$lines" "$out_dir/results.json" \
  --machine "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  --command "$command" --mode "$mode" || summary=$?
if [[ ${#failed[@]} -gt 0 ]]; then
  printf 'bench/run.sh: a benchmark exited non-zero: %s\n' "${failed[@]}" >&2
  exit 1
fi
exit "$summary"
