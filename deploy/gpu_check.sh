#!/bin/bash
# The GPU check, for a machine with one NVIDIA GPU, a CUDA LibTorch (a
# PyTorch wheel's) and no Bazel: everything else travels with the source
# (deploy/gpu_bundle.sh packs protobuf, abseil, Open MPI and the rest; 30 MB).
#
#   deploy/gpu_bundle.sh .gpubundle                     # here
#   DEPS_PREFIX=$PWD/.gpubundle deploy/gpu_check.sh     # there, under 8 min
#   deploy/gpu_check.sh --cpu                           # the CPU dry run
#
# 1. builds metarm_train, the learner benchmark and the smoke check from the
#    sources Bazel names (deploy/gpu/build.sh: what it needs, where it looks);
# 2. runs the smoke check on cuda:0 (NCCL, tensor routing, a MetaRM step and
#    a PPO update against the CPU's);
# 3. runs the RLHF job of deploy/gpu/rlhf_check.pbtxt end to end under
#    `mpirun -np 2` on cuda:0 (one learner and one rollout worker sharing the
#    GPU, tensors through MPI) and under `mpirun -np 1` COLOCATED (NCCL),
#    each killed (SIGKILL to every rank) after its second PPO iteration and
#    run again: it must resume from its checkpoint, finish and log its rounds;
# 4. benchmarks a GPT-2-small-shaped model (12 layers, d_model 768, vocab
#    50257, 512-token sequences) in bf16: the MetaRM step's and the PPO
#    update's MFU against the bf16 GEMM peak measured in the same pairs, and
#    KV-cache generation tokens/s at batch 64 (128 prompt tokens, 128 new);
#    each C++ timing followed by the same step in PyTorch eager
#    (bench/python_peer.py, the benchmark's child) and, for generation,
#    Hugging Face generate() where the transformers package is installed,
#    so every ratio is a median of pairs timed back to back;
# 5. prints the checks, the figures with their ranges and the goals (MFU >=
#    0.35, C++ no slower than eager, generation >= 2x generate()), each met
#    only when its whole range clears it, missed when the whole range falls
#    short, unclear otherwise; writes OUT/gpu_results.json.
#
# --cpu runs steps 1, 3 and 4 on the CPU with small shapes, bf16 too (the
# smoke check needs a GPU): the dry run this repository's tests make.
#
# PYTHON: the python3 with torch (and transformers, for generate()); default
# python3. The build's variables: deploy/gpu/build.sh.
# Options: --out DIR (default a new folder in /tmp), --build DIR (reuse or
# place the build there; default OUT/build).
# Exit codes: 0 every check passed, 1 a check failed, 2 a requirement is
# missing (named), 3 built but no CUDA device is visible (without --cpu).
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cpu=0
out=""
build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) cpu=1 ;;
    --out) out="$2"; shift ;;
    --build) build="$2"; shift ;;
    *) echo "gpu_check: unknown argument $1 (usage: $0 [--cpu] [--out DIR] [--build DIR])" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-$(mktemp -d /tmp/metarm_gpu_check.XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=${build:-$out/build}
checks=$out/checks.jsonl
figures=$out/figures.jsonl
: >"$checks"
: >"$figures"
started=$(date +%s)
PYTHON=${PYTHON:-python3}
export PYTHON

record() {  # record NAME OK(0|1) SECONDS DETAIL: one line of checks.jsonl
  "$PYTHON" -c 'import json, sys; print(json.dumps({"check": sys.argv[1], "ok": sys.argv[2] == "1", "seconds": int(sys.argv[3]), "detail": sys.argv[4]}))' \
    "$1" "$2" "$3" "$4" >>"$checks"
  if [ "$2" = 1 ]; then echo "gpu_check: ok: $1 ($3 s)"; else echo "gpu_check: FAILED: $1: $4 ($3 s)" >&2; fi
}

# --- 1. build ----------------------------------------------------------------
step_start=$(date +%s)
"$here/deploy/gpu/build.sh" --out "$build" >"$out/build.log" 2>&1
code=$?
if [ $code -ne 0 ]; then
  cat "$out/build.log" >&2
  exit $code
fi
tail -1 "$out/build.log"
record "build (deploy/gpu/build.sh)" 1 $(( $(date +%s) - step_start )) "$(tail -1 "$out/build.log")"
source "$build/build.env"
[ -n "$METARM_MPIRUN" ] || { echo "gpu_check: needs mpirun: set DEPS_PREFIX to a folder of deploy/gpu_bundle.sh, or install Open MPI" >&2; exit 2; }

# --- 2. the smoke check, which also says whether there is a GPU ---------------
if [ $cpu = 1 ]; then
  device=cpu
  precision=BF16
else
  step_start=$(date +%s)
  "$build/gpu_smoke" >"$out/smoke.log" 2>&1
  code=$?
  if [ $code -eq 3 ]; then
    cat "$out/smoke.log" >&2
    echo "gpu_check: needs a CUDA device, and LibTorch sees none (built in $build; --cpu runs the dry run)" >&2
    exit 3
  fi
  record "smoke check on cuda:0 (deploy/gpu_smoke)" $([ $code -eq 0 ] && echo 1 || echo 0) \
    $(( $(date +%s) - step_start )) "$(grep -m1 'gpu_smoke on' "$out/smoke.log")"
  device=cuda:0
  precision=BF16
fi

# --- 3. the RLHF job, killed and resumed --------------------------------------
mpirun_args=(--oversubscribe --bind-to none)
[ "$(id -u)" = 0 ] && mpirun_args+=(--allow-run-as-root)

job_pids() {  # the processes of a job: its ranks and their mpirun
  pgrep -f -- "--job=$1" || true
}

# rlhf_job NAME NP PLACEMENT BACKEND: run, kill after two PPO iterations,
# run again; the second run must resume and finish.
rlhf_job() {
  local name=$1 np=$2 placement=$3 backend=$4
  local job=$out/$name.pbtxt dir=$out/$name
  rm -rf "$dir"  # a check run again into the same --out starts afresh
  local d_model=128 sft_steps=100 iterations=4
  [ $cpu = 1 ] && { d_model=32; sft_steps=40; iterations=4; }
  sed -e "s|@NAME@|$name|; s|@OUTPUT_DIR@|$dir|; s|@PLACEMENT@|$placement|" \
      -e "s|@BACKEND@|$backend|; s|@DEVICE@|$device|; s|@PRECISION@|$precision|g" \
      -e "s|@D_MODEL@|$d_model|g; s|@SFT_STEPS@|$sft_steps|; s|@ITERATIONS@|$iterations|" \
      "$here/deploy/gpu/rlhf_check.pbtxt" >"$job"
  local step_start
  step_start=$(date +%s)
  timeout --kill-after=10 300 "$METARM_MPIRUN" "${mpirun_args[@]}" -np "$np" \
    "$build/metarm_train" --job="$job" >"$out/$name.first.log" 2>&1 &
  local first=$!
  local waited=0
  while [ $waited -lt 2400 ] && kill -0 $first 2>/dev/null; do
    [ -s "$dir/metrics.jsonl" ] && [ "$(wc -l <"$dir/metrics.jsonl")" -ge 2 ] && break
    sleep 0.1
    waited=$((waited + 1))
  done
  local killed=0 done_at_kill=0
  if kill -0 $first 2>/dev/null; then
    done_at_kill=$(wc -l <"$dir/metrics.jsonl" 2>/dev/null || echo 0)
    kill -KILL $(job_pids "$job") 2>/dev/null && killed=1
  fi
  wait $first 2>/dev/null
  if [ $killed = 0 ]; then
    record "$name: mpirun -np $np $placement on $device, killed mid-run" 0 \
      $(( $(date +%s) - step_start )) "the first run ended before it could be killed (see $out/$name.first.log)"
    return
  fi
  timeout --kill-after=10 300 "$METARM_MPIRUN" "${mpirun_args[@]}" -np "$np" \
    "$build/metarm_train" --job="$job" >"$out/$name.log" 2>&1
  local code=$?
  local rounds=0
  [ -f "$dir/rounds.jsonl" ] && rounds=$(wc -l <"$dir/rounds.jsonl")
  local resumed
  resumed=$(grep -m1 -o 'resuming from the checkpoint.*' "$out/$name.log" || true)
  local ok=1 detail="killed after $done_at_kill PPO iterations; ${resumed:-did not resume}; exit $code; $rounds lines in rounds.jsonl"
  if [ $code -ne 0 ] || [ -z "$resumed" ] || [ "$rounds" -ne 3 ]; then
    ok=0
    detail="$detail (want exit 0, a resume and 3 lines; see $out/$name.log)"
  fi
  record "$name: mpirun -np $np $placement on $device, killed and resumed" $ok \
    $(( $(date +%s) - step_start )) "$detail"
}
rlhf_job separate 2 SEPARATE MPI
rlhf_job colocated 1 COLOCATED AUTO

# The memory plan against the GPU, as the CUDA driver reports its memory:
# the separate job with a rollout batch no GPU holds is refused (exit 2),
# the message naming cuda:0's memory. (The dry run has no GPU to ask.)
if [ $cpu = 0 ]; then
  step_start=$(date +%s)
  sed 's/rollout_batch_size: [0-9]*/rollout_batch_size: 3999999996/' \
    "$out/separate.pbtxt" >"$out/too_big.pbtxt"
  "$METARM_MPIRUN" "${mpirun_args[@]}" -np 1 "$build/metarm_train" \
    --job="$out/too_big.pbtxt" --validate_only >"$out/too_big.log" 2>&1
  code=$?
  limit=$(grep -o "cuda:0's memory ([^)]*)" "$out/too_big.log" | head -1)
  ok=0
  [ $code -eq 2 ] && [ -n "$limit" ] && ok=1
  record "memory plan against the GPU: a job too big for it is refused" $ok \
    $(( $(date +%s) - step_start )) "exit $code; ${limit:-no GPU memory named (see $out/too_big.log)}"
fi

# --- 4. the benchmarks --------------------------------------------------------
step_start=$(date +%s)
# The shapes both sides share; the C++ side's own: its GEMM peak, and the
# cache-against-recompute pairs.
if [ $cpu = 1 ]; then
  shape_args=(--sizes=64 --layers=2 --vocab=259 --seq=32 --batch=4 --new_tokens=8
              --prompt_tokens=8 --generation_batch=4 --repeats=2 --device=cpu --precision=bf16)
  cpp_args=(--speedup_tokens=4 --gemm=256)
else
  shape_args=(--sizes=768 --layers=12 --vocab=50257 --seq=512 --batch=16 --new_tokens=128
              --prompt_tokens=128 --generation_batch=64 --repeats=5 --device=cuda:0 --precision=bf16)
  cpp_args=(--speedup_tokens=16 --gemm=8192)
fi
# The Python peer takes its turn after each C++ timing: PyTorch eager, and
# Hugging Face generate() where transformers is installed (its figures say
# "not measured: ..." otherwise, which fails no check).
peer_args=(--python_peer="$here/bench/python_peer.py" --python="$(command -v "$PYTHON")" --peer_hf_generate)
"$build/metarm_learner_bench" "${shape_args[@]}" "${cpp_args[@]}" "${peer_args[@]}" >"$figures" 2>"$out/bench.log"
code=$?
bad=$("$PYTHON" -c 'import json, sys; print(" ".join(r["name"] for r in map(json.loads, open(sys.argv[1])) if r.get("check") != "ok" and not r.get("check", "").startswith("not measured")))' "$figures" 2>/dev/null || echo "unreadable output")
record "C++ benchmark and its Python peer (metarm_learner_bench ${shape_args[*]} ${cpp_args[*]} --python_peer)" \
  $([ $code -eq 0 ] && [ -z "$bad" ] && echo 1 || echo 0) \
  $(( $(date +%s) - step_start )) "exit $code${bad:+; checks failed: $bad}$( [ $code -ne 0 ] && echo "; see $out/bench.log")"

# --- 5. the table and gpu_results.json ----------------------------------------
"$PYTHON" - "$out" "$device" "$(( $(date +%s) - started ))" "$here" <<'PY'
import datetime, json, platform, sys
out, device, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, f"{sys.argv[4]}/bench")
from summarize import goal_verdict  # the benchmarks' one verdict rule
checks = [json.loads(l) for l in open(f"{out}/checks.jsonl")]
figures = [json.loads(l) for l in open(f"{out}/figures.jsonl") if l.strip()]
smoke = open(f"{out}/smoke.log").read().splitlines() if device != "cpu" else []
results = {
    "date": datetime.date.today().isoformat(),
    "host": platform.node(),
    "device": device,
    "gpu": next((l for l in smoke if "gpu_smoke on" in l), "none (CPU dry run)"),
    "seconds": seconds,
    "checks": checks,
    "figures": figures,
}
json.dump(results, open(f"{out}/gpu_results.json", "w"), indent=1)
print(f"\n| check | ok | seconds | detail |\n|---|---|---:|---|")
for c in checks:
    print(f"| {c['check']} | {'yes' if c['ok'] else 'NO'} | {c['seconds']} | {c['detail']} |")
print(f"\n| figure | median | min | max | n | unit | check |\n|---|---:|---:|---:|---:|---|---|")
for f in figures:
    print(f"| {f['name']} | {f['value']:.4g} | {f['min']:.4g} | {f['max']:.4g} | {f['repeats']} | {f['unit']} | {f['check']} |")
# The goals of the GPU issue, each from a figure above measured in pairs
# (its median, min and max are per-pair ratios): met when the whole range
# clears the goal, missed when the whole range falls short, unclear
# otherwise, not measured where the figure is missing or failed.
by_name = {f["name"]: f for f in figures if f.get("check") == "ok" and f["repeats"] > 0}
goals = [
    ("MetaRM step MFU (bf16 GEMM peak, same pairs)", "metarm_step_mfu", 0.35),
    ("PPO update MFU (bf16 GEMM peak, same pairs)", "ppo_update_mfu", 0.35),
    ("MetaRM step: PyTorch eager time / C++ time (same pairs)",
     "python_over_cpp_metarm_step", 1.0),
    ("PPO update: PyTorch eager time / C++ time (same pairs)",
     "python_over_cpp_ppo_update", 1.0),
    ("generation: C++ tokens/s / Hugging Face generate() tokens/s (same pairs)",
     "hf_generate_over_cpp_generation", 2.0),
]
def verdict(f, target):
    return "not measured" if f is None else goal_verdict(f, ">=", target)
results["goals"] = [
    {"goal": g, "figure": name, "at_least": t,
     "median": by_name[name]["median"] if name in by_name else None,
     "min": by_name[name]["min"] if name in by_name else None,
     "max": by_name[name]["max"] if name in by_name else None,
     "verdict": verdict(by_name.get(name), t)} for g, name, t in goals]
json.dump(results, open(f"{out}/gpu_results.json", "w"), indent=1)
print(f"\n| goal | median [min .. max] | at least | |\n|---|---:|---:|---|")
for goal in results["goals"]:
    shown = ("-" if goal["median"] is None else
             f"{goal['median']:.3g} [{goal['min']:.3g} .. {goal['max']:.3g}]")
    print(f"| {goal['goal']} | {shown} | {goal['at_least']} | {goal['verdict']} |")
print(f"\ngpu_check: {device}, {seconds} s; {out}/gpu_results.json")
PY
grep -q '"ok": false' "$checks" && exit 1
exit 0
