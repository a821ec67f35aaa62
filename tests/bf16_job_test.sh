#!/usr/bin/env bash
# The quickstart job, shortened (50 SFT steps, 512 pairs, 6 PPO iterations a
# round), with both models in bf16 (precision: BF16: bfloat16 compute on
# float32 master weights) and again in float32, each under mpirun -np 3
# (2 learners + 1 rollout worker) on this machine's CPU: the bf16 run ends,
# tracks the float32 run (SFT loss within 2 %, the SFT policy's gold within
# 0.03, the reward model's last train accuracy above 0.6 and within 0.1 of
# float32's), and its exported policy keeps float32 weights, as
# docs/job_spec.md states.
# Short because a CPU without bf16 matrix instructions multiplies in bf16
# some 10-140x slower than in float32 (the bf16 run takes about 130 s on
# such a CPU, the float32 one 20 s).
set -uo pipefail
trainer=$1
mpirun_local=$2
quickstart=$3
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"

short_job() {  # short_job PRECISION > FILE
  shortened_quickstart "$quickstart" |
    sed -e "s/max_seq_len: 32 }/max_seq_len: 32 precision: $1 }/" \
      -e "s|output_dir: \"runs/quickstart\"|output_dir: \"$work/out_$1\"|" \
      -e 's/^policy { \(.*\) }/policy { \1 export_hf: true }/'
  echo 'logging { progress: false tensorboard: false }'
}
for precision in BF16 FP32; do
  short_job "$precision" >"$work/$precision.pbtxt"
  check "$precision: both models are $precision in the job" \
    test "$(grep -c "precision: $precision" "$work/$precision.pbtxt")" -eq 2
  out=$(timeout --kill-after=5 600 "$mpirun_local" -np 3 "$trainer" \
    --job="$work/$precision.pbtxt" --threads_per_rank=1 2>&1)
  code=$?
  check "the $precision job completes" test "$code" -eq 0
  echo "$precision:"
  echo "$out" | grep -E "^round"
done
check "bf16 tracks float32" /usr/bin/python3 - "$work/out_BF16" "$work/out_FP32" <<'PY'
import json, sys
def last(folder, name):
    return [json.loads(l) for l in open(f"{folder}/{name}.jsonl")][-1]
def summary(folder):
    rounds = [json.loads(l) for l in open(f"{folder}/rounds.jsonl")]
    assert len(rounds) == 3, rounds
    return (last(folder, "sft")["loss"], rounds[0]["gold_reward_mean"],
            last(folder, "reward_model")["train_accuracy"], rounds[-1]["gold_reward_mean"])
bf16, fp32 = summary(sys.argv[1]), summary(sys.argv[2])
for name, s in (("bf16", bf16), ("float32", fp32)):
    print(f"{name}: SFT loss {s[0]:.4f}, SFT gold {s[1]:.3f}, "
          f"last RM train accuracy {s[2]:.3f}, last gold {s[3]:.3f}")
assert abs(bf16[0] - fp32[0]) <= 0.02 * fp32[0], "SFT loss"
assert abs(bf16[1] - fp32[1]) <= 0.03, "SFT gold"
assert bf16[2] > 0.6 and abs(bf16[2] - fp32[2]) <= 0.1, "RM train accuracy"
PY
check "the exported policy's weights are float32" /usr/bin/python3 - "$work/out_BF16/policy_hf/model.safetensors" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    (size,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(size))
dtypes = {v["dtype"] for k, v in header.items() if k != "__metadata__"}
print("exported dtypes:", dtypes)
assert dtypes == {"F32"}, dtypes
PY
finish_checks bf16_job
