#!/usr/bin/env bash
# Every benchmark in one go, built with -c opt: the learner's steps and
# generation against this machine's GEMM peak (bench/learner_bench.cc), the
# same steps in Python PyTorch (bench/python_peer.py), activation
# checkpointing's peak memory and time (bench/step_options_bench.cc), the
# generation engine against the static sampler (bench/generation_bench.cc), and the collectives
# against plain MPI calls under mpirun -np 2 (bench/comm_bench.cc). Prints a
# table and writes bench/out/results.json (one entry per figure: name, the
# median with min, max, repeats and samples, unit, shapes, check).
# docs/PERFORMANCE.md defines every figure and the method.
#
#   bench/run.sh            d_model 128 and 512, 4 layers, 128 tokens, 3 passes
#   bench/run.sh --quick    the same shapes, fewer pairs (20 min on a slow day)
#   bench/run.sh --smoke    tiny shapes, seconds; the test suite runs this
#
# Exit 1 if any benchmark's own correctness check failed, or a figure broke
# its physical bound (an MFU above 1, a share outside [0, 1]).
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
  full)  learner=(--sizes=128,512 --layers=4 --seq=128 --batch=16 --new_tokens=128 --repeats=4)
         generation=(--d_model=512 --layers=4 --sequences=256 --slots=64 --repeats=3)
         memory=(--d_model=512 --layers=4 --seq=128 --batch=16 --repeats=4)
         comm=(--d_model=512 --layers=4 --repeats=10) passes=3 ;;
  quick) learner=(--sizes=128,512 --layers=4 --seq=128 --batch=16 --new_tokens=128 --repeats=2)
         generation=(--d_model=512 --layers=4 --sequences=256 --slots=64 --repeats=2)
         memory=(--d_model=512 --layers=4 --seq=128 --batch=16 --repeats=2)
         comm=(--d_model=512 --layers=4 --repeats=5) passes=3 ;;
  smoke) learner=(--sizes=32 --layers=1 --seq=16 --batch=4 --new_tokens=8 --repeats=2 --gemm=128)
         generation=(--d_model=32 --layers=1 --sequences=16 --slots=4 --max_prompt=12
                     --max_response=12 --k_prompts=3 --k_prompt_tokens=8 --k_max_response=8
                     --context=16 --copy_mb=16 --repeats=2)
         memory=(--d_model=64 --layers=2 --seq=32 --batch=4 --repeats=2)
         comm=(--d_model=32 --layers=1 --repeats=2) passes=2 ;;
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

python_args=()
for arg in "${learner[@]}"; do
  case $arg in --gemm=*) ;; --*=*) python_args+=("${arg%%=*}" "${arg#*=}") ;; esac
done
# C++ and Python alternate, pass after pass: each Python/C++ ratio is taken
# within a pass (the two ran back to back), and the spread over the passes is
# reported (bench/summarize.py). Within a pass every ratio of the C++
# benchmarks is itself measured in interleaved pairs (bench/figure.h).
for pass in $(seq "$passes"); do
  echo "bench/run.sh ($mode): learner steps, $threads threads (pass $pass)" >&2
  "$bin/metarm_learner_bench" "${learner[@]}" --threads="$threads" >>"$lines"
  echo "bench/run.sh ($mode): the Python peer (pass $pass)" >&2
  /usr/bin/python3 bench/python_peer.py "${python_args[@]}" --threads "$threads" >>"$lines"
done
echo "bench/run.sh ($mode): activation checkpointing's memory and time" >&2
"$bin/metarm_step_options_bench" "${memory[@]}" --threads="$threads" >>"$lines"
echo "bench/run.sh ($mode): the generation engine against the static sampler" >&2
"$bin/metarm_generation_bench" "${generation[@]}" --threads="$threads" >>"$lines"
echo "bench/run.sh ($mode): collectives, mpirun -np 2" >&2
deploy/mpirun_local.sh -np 2 "$bin/metarm_comm_bench" "${comm[@]}" >>"$lines"

/usr/bin/python3 bench/summarize.py "$lines" "$out_dir/results.json" \
  --machine "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  --command "bench/run.sh $(echo "$@")" --mode "$mode"
