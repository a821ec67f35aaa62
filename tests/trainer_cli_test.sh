#!/usr/bin/env bash
# metarm_train's command line under mpirun: the layout of a good job, and for
# every kind of bad input exit code 2 on every rank, the problem printed once,
# and no rank left hanging (each run is bounded by `timeout`).
set -uo pipefail
trainer=$1
mpirun_local=$2
job=$3
gold_sort=$(dirname "$4")
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }

# run NP ARGS... : runs the trainer on NP ranks; sets $out and $code.
run() {
  local ranks=$1
  shift
  # A guard against a hang, not a speed test: the fastbuild quickstart takes
  # about 2 minutes on 2 cores.
  out=$(timeout --kill-after=5 400 "$mpirun_local" -np "$ranks" "$trainer" "$@" 2>&1)
  code=$?
}



run 3 --job="$job" --output_dir="$work/out"
check "good job exits 0" test "$code" -eq 0
check "layout names the job" has 'job "quickstart" (RLHF): 3 ranks, 2 learners and 1 rollout worker, SEPARATE'
check "layout row for rank 2" grep -qE '^  2 +[^ ]+ +2/3 +rollout 0 ' <<<"$out"
check "layout row for rank 1" grep -qE '^  1 +[^ ]+ +1/3 +learner 1 ' <<<"$out"
# The quickstart trains: SFT and two rounds, and the last round's policy has
# a higher gold reward than the SFT policy.
check "quickstart writes round 0 to 2" test "$(wc -l <"$work/out/rounds.jsonl")" -eq 3
check "quickstart improves the gold reward over SFT" e2e improves "$work/out/rounds.jsonl" gold_reward_mean
check "quickstart logs 40 PPO iterations" test "$(wc -l <"$work/out/metrics.jsonl")" -eq 40

run 2 --job="$job"
check "wrong rank count exits 2" test "$code" -eq 2
check "wrong rank count names both numbers" has "job error: topology: the job needs 3 ranks (learner_ranks 2 + rollout_ranks 1) but was started with 2"
check "printed once" test "$(count 'job error: topology')" -eq 1

cat >"$work/three_bad.pbtxt" <<'JOB'
name: "three_bad"
topology { learner_ranks: 1 rollout_ranks: 1 }
task { name: "sort" eval_pairs: "/nonexistent/pairs.jsonl" }
ppo { clip_range: 1.5 }
reward_training { eta: -1 }
JOB
run 2 --job="$work/three_bad.pbtxt"
check "three bad fields exit 2" test "$code" -eq 2
check "bad data path" has "job error: task.eval_pairs: no such file: /nonexistent/pairs.jsonl"
check "bad clip range" has "job error: ppo.clip_range: must be in (0, 1), got 1.5"
check "bad eta" has "job error: reward_training.eta: must be >= 0, got -1"
check "each problem once" test "$(count 'job error:')" -eq 3

printf 'name: "typo"\nppo {\n  clip_rnage: 0.2\n}\n' >"$work/typo.pbtxt"
run 2 --job="$work/typo.pbtxt"
check "unknown field exits 2" test "$code" -eq 2
check "unknown field names line and column" has "typo.pbtxt:3:13: Message type \"metarm.PpoSpec\" has no field named \"clip_rnage\""

run 2 --job="$work/missing.pbtxt"
check "missing job file exits 2" test "$code" -eq 2
check "missing job file says so" has "missing.pbtxt: cannot open: No such file or directory"

run 2 --jbo="$job"
check "unknown flag exits 2" test "$code" -eq 2
check "unknown flag named" has "metarm_train: flag --jbo: unknown flag"

run 1 --job="$job" --threads_per_rank=many
check "bad flag value exits 2" test "$code" -eq 2
check "bad flag value named" has "flag --threads_per_rank:"

run 1
check "no job flag exits 2" test "$code" -eq 2
check "no job flag named" has "flag --job: required"

run 1 --job="$job" --validate_only
check "validate_only on one process exits 0" test "$code" -eq 0
check "validate_only reports ranks" has "valid; needs 3 ranks"

run 1 --job="$work/three_bad.pbtxt" --validate_only
check "validate_only of a bad job exits 2" test "$code" -eq 2

# Placement: a CUDA device or the NCCL backend asked for on a machine
# without them is refused before any work, naming why.
run 3 --job="$job" --output_dir="$work/cuda" --device=cuda
check "--device=cuda without GPUs exits 2" test "$code" -eq 2
check "--device=cuda says no CUDA device" has "topology.device: device cuda: this process sees no CUDA device"
check "--device=cuda printed once" test "$(count 'sees no CUDA device')" -eq 1
run 3 --job="$job" --output_dir="$work/nccl" --comm_backend=nccl
check "--comm_backend=nccl on CPU exits 2" test "$code" -eq 2
check "--comm_backend=nccl names the device" has "the nccl backend moves CUDA tensors, and this rank's device is cpu"
run 1 --job="$job" --device=gpu0
check "malformed --device exits 2" test "$code" -eq 2
check "malformed --device named" has 'flag --device: device "gpu0": expected auto, cpu, cuda or cuda:N'
run 1 --job="$job" --comm_backend=gloo
check "unknown --comm_backend exits 2" test "$code" -eq 2
check "unknown --comm_backend named" has 'flag --comm_backend: unknown communication backend "gloo"'
cat >"$work/placement_bad.pbtxt" <<'JOB'
name: "placement_bad"
topology { device: "tpu" }
JOB
run 1 --job="$work/placement_bad.pbtxt" --validate_only
check "bad topology.device exits 2" test "$code" -eq 2
check "bad topology.device named" has 'job error: topology.device: device "tpu": expected auto, cpu, cuda or cuda:N'
cat >"$work/nccl_cpu.pbtxt" <<'JOB'
name: "nccl_cpu"
topology { device: "cpu" backend: NCCL }
JOB
run 1 --job="$work/nccl_cpu.pbtxt" --validate_only
check "NCCL with device cpu exits 2" test "$code" -eq 2
check "NCCL with device cpu named" has "job error: topology.backend: NCCL moves CUDA tensors; topology.device is cpu"

out=$("$trainer" --job="$job" --print_world_size 2>&1)
code=$?
check "print_world_size" test "$out" = "3"
out=$("$trainer" --job="$job" --threads_per_rank=-3 --print_world_size 2>&1)
code=$?
check "negative --threads_per_rank exits 2" test "$code" -eq 2
check "negative --threads_per_rank named" has "--threads_per_rank must be 0 (sized from the node's cores) or positive, got -3"
out=$("$trainer" --job="$job" --print_output_dir 2>&1)
check "print_output_dir: the job's" test "$out" = "$(sed -n 's/^output_dir: "\(.*\)"$/\1/p' "$job")"
out=$("$trainer" --job="$job" --output_dir=/somewhere/else --print_output_dir 2>&1)
check "print_output_dir: the flag's" test "$out" = "/somewhere/else"

# A gold network whose calibration is wrong: exit 2 on both ranks before any
# work, the problem named once, nothing written.
mkdir -p "$work/bad_gold"
cp "$gold_sort"/config.json "$gold_sort"/model.safetensors "$work/bad_gold/"
echo '{"scale": 0, "offset": 0.5}' >"$work/bad_gold/gold.json"
cat >"$work/bad_gold.pbtxt" <<JOB
name: "bad_gold"
output_dir: "$work/bad_gold_out"
topology { learner_ranks: 1 rollout_ranks: 1 }
task { name: "sort" gold_network: "$work/bad_gold" }
JOB
run 2 --job="$work/bad_gold.pbtxt"
check "bad gold network exits 2" test "$code" -eq 2
check "bad gold network named" has "task.gold_network: $work/bad_gold/gold.json: \"scale\" must be positive"
check "bad gold network printed once" test "$(count 'task.gold_network')" -eq 1
check "bad gold network writes nothing" test ! -e "$work/bad_gold_out/rounds.jsonl"

finish_checks trainer_cli
