#!/usr/bin/env bash
# The memory plan (training/memory_plan.h) under real ranks:
#  - sizes that cannot fit are refused before any work, exit 2, naming the
#    largest item: reward_model { n_layers: 1000000000 },
#    ppo.rollout_batch_size: 3999999996, d_model: 1000000,
#    max_seq_len: 1000000000, and a checkpoint's config.json with
#    "n_layer": 10**12; by --validate_only and by a real run alike (which
#    then leaves no output folder);
#  - --memory_limit_gib is the limit when given; a negative one exits 2;
#  - a job on CUDA is planned against its GPU's share (--device_memory_gib
#    here, where no GPU is), a CPU rank is not;
#  - the estimate against the measured peak: three job shapes (a smaller one
#    in bf16) on one rank, the rank's peak resident memory (/usr/bin/time)
#    less that of a tiny job (the libraries' own footprint), within a
#    factor of 1.5 of the plan's total.
set -uo pipefail
trainer=$1
mpirun_local=$2
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }

tiny_job() {  # tiny_job NAME [SED_EXPRESSION [BATCH [NAME=VALUE...]]] > FILE
  e2e job rlhf_tiny name="$1" seed=1 output_dir="$work/out_$1" learners=1 \
    rollouts=1 placement=COLOCATED task=sort eval_prompts=8 sft_steps=2 \
    rounds=1 batch="${3:-4}" iterations=1 eval_n=8 \
    extra="logging { progress: false tensorboard: false }" "${@:4}" | sed -e "${2:-}"
}

run() {  # run JOB [FLAGS...]
  local job=$1
  shift
  out=$(timeout --kill-after=5 300 "$mpirun_local" -np 1 "$trainer" \
    --job="$work/$job.pbtxt" --threads_per_rank=1 "$@" 2>&1)
  code=$?
}

# --- Sizes that cannot fit. -----------------------------------------------
mkdir -p "$work/huge_gpt2"
cat >"$work/huge_gpt2/config.json" <<'JSON'
{"model_type": "gpt2", "vocab_size": 300, "n_embd": 64, "n_layer": 1000000000000,
 "n_head": 4, "n_positions": 64}
JSON
# NAME # SED EXPRESSION # THE LARGEST ITEM
cases=(
  "layers#s/reward_model { d_model: 32 n_layers: 1 /reward_model { d_model: 32 n_layers: 1000000000 /#activations of a reward-model step"
  "batch#s/rollout_batch_size: 12/rollout_batch_size: 3999999996/#scoring the rollout batch"
  "width#s/policy { d_model: 32 /policy { d_model: 1000000 /#policy weights + gradients"
  "positions#s/max_seq_len: 28/max_seq_len: 1000000000/#critic weights + gradients + AdamW moments"
  "config#s|policy { [^}]*}|policy { checkpoint: \"$work/huge_gpt2\" }|#"
)
for entry in "${cases[@]}"; do
  IFS='#' read -r name expression largest <<<"$entry"
  tiny_job "$name" "$expression" >"$work/$name.pbtxt"
  for how in validate run; do
    started=$(date +%s)
    if [[ "$how" == validate ]]; then run "$name" --validate_only; else run "$name"; fi
    elapsed=$(($(date +%s) - started))
    echo "$name ($how): exit $code after $elapsed s: $(grep -o 'the job does not fit.*), and' <<<"$out")"
    check "$name ($how): exit 2" test "$code" -eq 2
    check "$name ($how): refused as not fitting, naming the largest item" \
      grep -q "the job does not fit in memory: a learner + rollout worker needs about .* (the largest item: $largest" <<<"$out"
    check "$name ($how): refused at once ($elapsed s)" test "$elapsed" -le 20
  done
  check "$name: no output folder was made" test ! -e "$work/out_$name"
done

# --- The limit flag. --------------------------------------------------------
tiny_job flag >"$work/flag.pbtxt"
run flag --validate_only --memory_limit_gib=0.001
check "--memory_limit_gib=0.001: exit 2" test "$code" -eq 2
check "--memory_limit_gib names itself as the limit" has "a rank may use 1.0 MiB (--memory_limit_gib)"
run flag --validate_only --memory_limit_gib=-1
check "--memory_limit_gib=-1: exit 2" test "$code" -eq 2
check "it says why" has "--memory_limit_gib must be 0"
run flag --validate_only
check "the tiny job fits: exit 0" test "$code" -eq 0
check "the plan is printed" has "memory per rank (estimate; limit"

# --- The GPU's memory. ------------------------------------------------------
# A job on CUDA is planned against its GPU's share: --device_memory_gib
# (here, a machine without a GPU), else what the CUDA driver reports.
tiny_job gpu 's/^topology {/topology { device: "cuda:0"/' >"$work/gpu.pbtxt"
run gpu --validate_only --device_memory_gib=0.001
check "a CUDA job, --device_memory_gib=0.001: exit 2" test "$code" -eq 2
check "the GPU's share is the limit, named" \
  has "a rank may use 1.0 MiB (--device_memory_gib (cuda:0's memory) / 1 ranks on it)"
run gpu --validate_only --device_memory_gib=80
check "a CUDA job, --device_memory_gib=80: exit 0" test "$code" -eq 0
check "planned against the GPU's 80 GiB" has "memory per rank (estimate; limit 80 GiB)"
run gpu --validate_only --device_memory_gib=-1
check "--device_memory_gib=-1: exit 2" test "$code" -eq 2
check "it says why" has "--device_memory_gib must be 0"
if [[ ! -e /dev/nvidiactl ]]; then
  run gpu --validate_only
  check "a CUDA job, no driver here: valid (exit 0)" test "$code" -eq 0
  check "it says the GPU's memory is unknown here" \
    has "no CUDA driver here (libcuda.so.1): its memory plan is checked against this machine's memory only"
fi
run flag --device_memory_gib=0.001
check "a CPU rank is not limited by --device_memory_gib: the run exits 0" test "$code" -eq 0

# --- The estimate against the measured peak. ------------------------------
peak_mib() {  # peak_mib JOB: the rank's peak resident memory, MiB; its
  # plan's line in JOB.plan
  local log
  log=$(timeout --kill-after=5 600 "$mpirun_local" -np 1 /usr/bin/time -f "peak %M KiB" \
    "$trainer" --job="$work/$1.pbtxt" --threads_per_rank=1 2>&1)
  grep -m1 "learner + rollout worker: " <<<"$log" >"$work/$1.plan"
  grep -o "peak [0-9]* KiB" <<<"$log" | awk '{print int($2 / 1024)}'
}
to_mib() {  # "1.0 GiB" -> 1024
  awk '{v = $1; u = $2; f = (u == "GiB") ? 1024 : (u == "MiB") ? 1 : (u == "KiB") ? 1 / 1024 : 1 / 1048576; print int(v * f)}'
}
tiny_job baseline >"$work/baseline.pbtxt"
baseline=$(peak_mib baseline)
echo "the libraries' footprint (a tiny job's peak): $baseline MiB"
# The bf16 shape is smaller (d_model 256) and takes one SFT step and one
# reward-model step (one batch of pairs): a CPU without bf16 matrix
# instructions multiplies in bf16 some 10-140x slower than in float32, and
# the peak is one step's, whatever the count of steps.
for shape in "512 4 16 FP32 2 128" "768 2 32 FP32 2 128" "256 4 16 BF16 1 16"; do
  read -r d layers batch precision sft_steps pairs <<<"$shape"
  name="shape_${d}_$precision"
  tiny_job "$name" "s/d_model: 32 n_layers: 1 n_heads: 2/d_model: $d n_layers: $layers n_heads: 2 precision: $precision/g" \
    "$batch" sft_steps="$sft_steps" pairs="$pairs" >"$work/$name.pbtxt"
  peak=$(peak_mib "$name")
  estimate=$(grep -o "worker: [0-9.]* [KMG]iB" "$work/$name.plan" | cut -d' ' -f2- | to_mib)
  measured=$((peak - baseline))
  echo "d_model $d, $layers layers, batch $batch, $precision: plan $estimate MiB, measured $measured MiB ($peak MiB peak less $baseline MiB)"
  check "d_model $d, $precision: the plan is within 1.5x of the measured peak" \
    awk -v e="$estimate" -v m="$measured" 'BEGIN { exit !(m > 0 && e / m <= 1.5 && m / e <= 1.5) }'
done

finish_checks memory_plan
