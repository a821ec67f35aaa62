#!/usr/bin/env bash
# Checkpoints, resume and failures of the RLHF job on real MPI ranks
# (2 learners + 1 rollout worker):
#  - a run killed with SIGKILL on a random rank at a random moment, inside a
#    checkpoint write, or at a round's end, then resumed, ends with the same
#    metrics, logs and final weights as an uninterrupted run, bit for bit;
#  - a killed rollout rank or learner rank ends the whole job within 30 s,
#    non-zero, with the rank named;
#  - SIGTERM to one rank, or SIGUSR1 to mpirun, stops the run at its next
#    safe point with a checkpoint and exit 3; run again, it ends as the
#    uninterrupted run did; the same inside a long SFT, where SIGTERM to
#    mpirun (with odls_base_sigkill_timeout 3) reaches the ranks too, and
#    inside a round's reward-model training;
#  - a corrupt checkpoint, a changed job file and --resume without a
#    checkpoint are refused with exit 2 and nothing in the folder changes;
#  - non-finite updates stop the job after ppo.max_skipped_updates;
#  - an output folder that cannot be written gives a clear error.
# (A disk that fills up at any moment: tests/full_disk_test.sh.)
set -uo pipefail
export METARM_TEST_CRASH=""
trainer=$1
mpirun_local=$2
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"

e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }

# Every phase on a learning-rate schedule with clipping, so that resuming
# is shown to continue the schedules where they were.
schedules=(
  sft_extra="schedule { warmup_steps: 5 decay: LINEAR max_grad_norm: 1 }"
  reward_extra="schedule { warmup_steps: 2 decay: COSINE min_lr_ratio: 0.1 }"
)
ppo_schedule="schedule { warmup_steps: 2 decay: COSINE max_grad_norm: 0.5 }"

write_job() {  # write_job NAME [EXTRA_PPO_FIELDS] [OUTPUT_DIR]
  e2e job rlhf_tiny name="$1" seed=5 output_dir="${3:-$work/out_$1}" \
    learners=2 rollouts=1 task=sort eval_prompts=16 sft_steps=30 \
    "${schedules[@]}" ppo_extra="$ppo_schedule ${2:-}" rounds=3 \
    extra="checkpoint { every_iterations: 1 keep_last: 2 } logging { progress: false }" \
    >"$work/$1.pbtxt"
}

run() {  # run JOB [FLAGS...]: in the foreground
  local job=$1
  shift
  out=$(timeout --kill-after=5 300 "$mpirun_local" -x METARM_TEST_CRASH -np 3 \
    "$trainer" --job="$work/$job.pbtxt" --threads_per_rank=1 "$@" 2>&1)
  code=$?
}

# The same outputs as the uninterrupted run: every log line (without the
# timings) and the final weights' bytes.
same_outputs() {  # same_outputs REFERENCE_DIR OUT_DIR
  e2e same "$1" "$2" metrics.jsonl rounds.jsonl reward_model.jsonl \
    reward_steps.jsonl eval_samples.jsonl sft.jsonl &&
    cmp -s "$1/policy.pt" "$2/policy.pt"
}
same_as_reference() { same_outputs "$work/out_reference" "$1"; }

fingerprint() {  # every file of a folder with its checksum
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum)
}

# start_in_background JOB: runs the job; its output goes to JOB.log, its
# exit code to JOB.code. Returns once the run has its first checkpoint.
start_in_background() {
  ( timeout --kill-after=5 300 "$mpirun_local" -np 3 "$trainer" \
      --job="$work/$1.pbtxt" --threads_per_rank=1 >"$work/$1.log" 2>&1
    echo $? >"$work/$1.code" ) &
  for _ in $(seq 300); do
    ls -d "$work/out_$1/checkpoints/ckpt-"* >/dev/null 2>&1 && break
    sleep 0.1
  done
}

# rank_pids JOB [RANK]: the pids of the job's ranks (of world rank RANK).
rank_pids() { job_pids "$work/$1.pbtxt" metarm_train "${2:-}"; }

# signal_run NAME SIGNAL TARGET LOG LINES [MPIRUN_FLAGS...]: runs job NAME in
# the background until LOG (a file of its output folder) has LINES lines,
# sends SIGNAL to learner 1 (TARGET learner) or to mpirun itself (TARGET
# mpirun), waits for the end; sets code and out.
signal_run() {
  local name=$1 signal=$2 target=$3 log=$4 lines=$5
  shift 5
  ( timeout --kill-after=5 300 "$mpirun_local" "$@" -np 3 "$trainer" \
      --job="$work/$name.pbtxt" --threads_per_rank=1 >"$work/$name.log" 2>&1
    echo $? >"$work/$name.code" ) &
  for _ in $(seq 600); do
    [[ -s "$work/out_$name/$log" ]] &&
      (( $(wc -l <"$work/out_$name/$log") >= lines )) && break
    sleep 0.05
  done
  if [[ "$target" == learner ]]; then
    kill -"$signal" "$(rank_pids "$name" 1)"
  else
    # mpirun itself, not the timeout or shell around it.
    kill -"$signal" $(job_pids "$work/$name.pbtxt" mpirun)
  fi
  wait
  code=$(cat "$work/$name.code")
  out=$(cat "$work/$name.log")
}

write_job reference
run reference
check "uninterrupted run exits 0" test "$code" -eq 0
check "it writes checkpoints" test -d "$work/out_reference/checkpoints/ckpt-00000010"
check "it keeps the last 2" test "$(ls "$work/out_reference/checkpoints" | wc -l)" -eq 2
check "a manifest with checksums" grep -q '"crc32c"' "$work/out_reference/checkpoints/ckpt-00000010/manifest.json"

# --- A kill on a random rank at a random moment, then resume. -------------
write_job random
# A random moment that is surely before the end: once checkpoint k (random,
# 1 to 8 of 10) exists, after a random pause of up to 50 ms. (A pause from
# the first checkpoint alone could outlast this small job.)
k=$((1 + RANDOM % 8))
start_in_background random
for _ in $(seq 3000); do
  newest=$(ls "$work/out_random/checkpoints" 2>/dev/null | grep -v tmp | sed 's/ckpt-0*//' | sort -n | tail -1)
  [[ -n "$newest" && "$newest" -ge "$k" ]] && break
  sleep 0.01
done
sleep "0.0$((RANDOM % 5))"
pids=($(rank_pids random))
check "the random kill found the ranks running" test "${#pids[@]}" -gt 0
killed_at=$(date +%s)
if [[ ${#pids[@]} -gt 0 ]]; then
  victim=${pids[$((RANDOM % ${#pids[@]}))]}
  echo "killing pid $victim of ${pids[*]} after $(ls "$work/out_random/checkpoints" | tr '\n' ' ')"
  kill -9 "$victim"
fi
wait
elapsed=$(($(date +%s) - killed_at))
code=$(cat "$work/random.code")
out=$(cat "$work/random.log")
check "the killed run ends within 30 s ($elapsed s)" test "$elapsed" -le 30
check "the killed run exits non-zero" test "$code" -ne 0
run random
check "resumed run exits 0" test "$code" -eq 0
check "resumed run says so" has "metarm: resuming from the checkpoint in $work/out_random/checkpoints"
check "resumed after a random kill: same as uninterrupted" same_as_reference "$work/out_random"

# --- A kill inside a checkpoint write (learner 0, the 5th checkpoint). -----
write_job in_write
METARM_TEST_CRASH=checkpoint_write:5 run in_write
check "killed inside a checkpoint write exits non-zero" test "$code" -ne 0
check "a half-written checkpoint is left" test -d "$work/out_in_write/checkpoints/ckpt-00000005.tmp"
METARM_TEST_CRASH= run in_write
check "resumed after a kill in a checkpoint write exits 0" test "$code" -eq 0
check "it resumed from the 4th" has "round 1, 3 PPO iterations done"
check "the half-written checkpoint is gone" test ! -e "$work/out_in_write/checkpoints/ckpt-00000005.tmp"
check "resumed after a kill in a checkpoint write: same as uninterrupted" same_as_reference "$work/out_in_write"

# --- A kill at a round's end (before round 2's evaluation). ---------------
write_job round_end
METARM_TEST_CRASH=round_end:2 run round_end
check "killed at a round's end exits non-zero" test "$code" -ne 0
METARM_TEST_CRASH= run round_end
check "resumed after a kill at a round's end exits 0" test "$code" -eq 0
check "it resumed inside round 2" has "round 2, 2 PPO iterations done"
check "resumed after a kill at a round's end: same as uninterrupted" same_as_reference "$work/out_round_end"

# --- Killed ranks end the job, naming the rank. ---------------------------
for role in "rollout 2" "learner 1"; do
  read -r name rank <<<"$role"
  write_job "kill_$name" "" "$work/out_kill_$name"
  sed -i 's/rounds: 3/rounds: 30/' "$work/kill_$name.pbtxt"
  start_in_background "kill_$name"
  victim=$(rank_pids "kill_$name" "$rank")
  killed_at=$(date +%s)
  kill -9 "$victim"
  wait
  elapsed=$(($(date +%s) - killed_at))
  code=$(cat "$work/kill_$name.code")
  out=$(cat "$work/kill_$name.log")
  echo "killed the $name (rank $rank): the job ended after $elapsed s, exit $code"
  check "killing the $name (rank $rank) ends the job within 30 s ($elapsed s)" test "$elapsed" -le 30
  check "killing the $name exits non-zero" test "$code" -ne 0
  check "killing the $name: the rank is named" has "process rank $rank"
  check "no rank is left running" test -z "$(pgrep -f -- "--job=$work/kill_$name.pbtxt")"
done

# --- Pre-emption: a stop signal, a checkpoint, exit 3, then resume. -------
# SIGTERM sent to one learner alone (the ranks agree on it), and SIGUSR1 sent
# to mpirun (which forwards it to every rank). The job checkpoints only at
# round ends, so the stop's checkpoint is one of its own.
for how in "SIGTERM learner" "SIGUSR1 mpirun"; do
  read -r signal target <<<"$how"
  name="stop_$target"
  e2e job rlhf_tiny name="$name" seed=5 output_dir="$work/out_$name" \
    learners=2 rollouts=1 task=sort eval_prompts=16 sft_steps=30 rounds=3 \
    "${schedules[@]}" ppo_extra="$ppo_schedule" \
    extra="checkpoint { every_iterations: 0 keep_last: 2 } logging { progress: false }" \
    >"$work/$name.pbtxt"
  signal_run "$name" "$signal" "$target" metrics.jsonl 1
  stopped_at=$(grep -o "stopped by $signal after round [0-9]*, [0-9]* PPO iterations done" <<<"$out")
  echo "$signal to the $target: ${stopped_at:-no stop message}, exit $code"
  check "$signal to the $target: exit 3" test "$code" -eq 3
  check "$signal to the $target: it says where it stopped" test -n "$stopped_at"
  check "$signal to the $target: the metrics stop where it stopped" \
    test "$(wc -l <"$work/out_$name/metrics.jsonl")" -lt 9
  run "$name"
  check "$signal to the $target: the resumed run exits 0" test "$code" -eq 0
  check "$signal to the $target: it resumed where it stopped" \
    has "${stopped_at#stopped by $signal after }"
  check "$signal to the $target: same as uninterrupted" same_as_reference "$work/out_$name"
done

# --- Pre-emption inside SFT. ----------------------------------------------
# A long SFT (1200 steps, about 10 s here: 600 took 5 s) has a safe point after every step:
# SIGTERM to learner 1 stops it there with a checkpoint (SFT's optimizer
# state included) and exit 3. SIGTERM to mpirun: Open MPI 4.1 passes it on to
# the ranks after odls_base_sigkill_timeout seconds and kills them that long
# after that, so with a wait of 3 s the ranks stop at the next step with
# their checkpoint and mpirun exits non-zero. Either run, resumed, ends as
# the uninterrupted one did.
e2e job rlhf_tiny name=sft_reference seed=5 output_dir="$work/out_sft_reference" \
  learners=2 rollouts=1 task=sort eval_prompts=16 sft_steps=1200 rounds=1 \
  "${schedules[@]}" ppo_extra="$ppo_schedule" \
  extra="checkpoint { every_iterations: 0 keep_last: 2 } logging { progress: false }" \
  >"$work/sft_reference.pbtxt"
run sft_reference
check "the long-SFT reference run exits 0" test "$code" -eq 0
for target in learner mpirun; do
  name="stop_sft_$target"
  sed "s|out_sft_reference|out_$name|" "$work/sft_reference.pbtxt" >"$work/$name.pbtxt"
  mca=()
  [[ "$target" == mpirun ]] && mca=(--mca odls_base_sigkill_timeout 3)
  signal_run "$name" TERM "$target" sft.jsonl 20 "${mca[@]}"
  stopped_at=$(grep -o "stopped by SIGTERM inside round 0's SFT, [0-9]* of 1200 steps done" <<<"$out")
  echo "SIGTERM to the $target inside SFT: ${stopped_at:-no stop message}, exit $code"
  if [[ "$target" == learner ]]; then
    check "SIGTERM to a learner inside SFT: exit 3" test "$code" -eq 3
  else
    check "SIGTERM to mpirun inside SFT: mpirun exits non-zero" test "$code" -ne 0
  fi
  check "SIGTERM to the $target inside SFT: it says where it stopped" test -n "$stopped_at"
  check "SIGTERM to the $target inside SFT: SFT's optimizer is in the checkpoint" \
    compgen -G "$work/out_$name/checkpoints/ckpt-*/sft_optimizer.pt"
  check "SIGTERM to the $target inside SFT: no round was run" \
    test ! -s "$work/out_$name/rounds.jsonl"
  run "$name"
  check "SIGTERM to the $target inside SFT: the resumed run exits 0" test "$code" -eq 0
  check "SIGTERM to the $target inside SFT: it resumed inside SFT" \
    has "resuming from the checkpoint in $work/out_$name/checkpoints: ${stopped_at#stopped by SIGTERM }"
  check "SIGTERM to the $target inside SFT: same logs and weights as uninterrupted" \
    same_outputs "$work/out_sft_reference" "$work/out_$name"
done

# --- Pre-emption inside a round's reward-model training. ------------------
# A safe point after every reward-model step: SIGTERM to learner 1 stops the
# training there with a checkpoint (the reward model, its optimizer, the
# meta set and the epoch's running totals) and exit 3; resumed, the run ends
# as the uninterrupted one did. Two shapes: 7 steps an epoch for 40 epochs,
# stopped in round 2 (the PPO learner exists by then), usually inside an
# epoch; and 1 step an epoch for 300 epochs, where every stop falls at an
# epoch's end, before its line in reward_model.jsonl.
for shape in "inside_epoch 16 40 2" "epoch_end 64 300 1"; do
  read -r where batch epochs round <<<"$shape"
  name="stop_rm_$where"
  e2e job rlhf_tiny name="$name" seed=5 output_dir="$work/out_${name}_reference" \
    learners=2 rollouts=1 task=sort eval_prompts=16 sft_steps=30 rounds=2 \
    "${schedules[@]}" ppo_extra="$ppo_schedule" \
    extra="checkpoint { every_iterations: 0 keep_last: 2 } logging { progress: false }" |
    sed "s/batch_size: 16 meta_batch_size/batch_size: $batch meta_batch_size/; s/epochs: 1\$/epochs: $epochs/" \
      >"$work/${name}_reference.pbtxt"
  run "${name}_reference"
  check "the $where reference run exits 0" test "$code" -eq 0
  sed "s|out_${name}_reference|out_$name|" "$work/${name}_reference.pbtxt" >"$work/$name.pbtxt"
  # A step of round $round, some way into its training.
  before=$(grep -c "\"round\":$((round - 1))," "$work/out_${name}_reference/reward_steps.jsonl")
  signal_run "$name" TERM learner reward_steps.jsonl $((before + 37))
  stopped_at=$(grep -o "stopped by SIGTERM inside round $round's reward-model training, [0-9]* steps done" <<<"$out")
  echo "SIGTERM to a learner in the reward-model training ($where): ${stopped_at:-no stop message}, exit $code"
  check "SIGTERM in the reward-model training ($where): exit 3" test "$code" -eq 3
  check "SIGTERM in the reward-model training ($where): it says where it stopped" test -n "$stopped_at"
  run "$name"
  check "SIGTERM in the reward-model training ($where): the resumed run exits 0" test "$code" -eq 0
  check "SIGTERM in the reward-model training ($where): it resumed there" \
    has "resuming from the checkpoint in $work/out_$name/checkpoints: ${stopped_at#stopped by SIGTERM }"
  check "SIGTERM in the reward-model training ($where): same logs and weights as uninterrupted" \
    same_outputs "$work/out_${name}_reference" "$work/out_$name"
done

# --- Refusals: exit 2, nothing changed. -----------------------------------
cp -r "$work/out_reference" "$work/out_corrupt"
sed "s|out_reference|out_corrupt|" "$work/reference.pbtxt" >"$work/corrupt.pbtxt"
latest="$work/out_corrupt/checkpoints/ckpt-00000010"
# Flip every bit of one byte (writing a fixed value could leave it as it was).
e2e flip_byte "$latest/policy.pt" 200
before=$(fingerprint "$work/out_corrupt")
run corrupt
check "a corrupt checkpoint exits 2" test "$code" -eq 2
check "it names the file" has "$latest/policy.pt is corrupt"
check "nothing changed after refusing a corrupt checkpoint" test "$before" == "$(fingerprint "$work/out_corrupt")"

cp -r "$work/out_reference" "$work/out_changed"
sed -e "s|out_reference|out_changed|" -e "s/d_model: 32 n_layers: 1 n_heads: 2 max_seq_len: 28 }/d_model: 64 n_layers: 1 n_heads: 2 max_seq_len: 28 }/" \
  -e "s/epochs: 1 iterations_per_round: 3/epochs: 2 iterations_per_round: 3/" \
  "$work/reference.pbtxt" >"$work/changed.pbtxt"
before=$(fingerprint "$work/out_changed")
run changed
check "a changed job exits 2" test "$code" -eq 2
check "it names the fields" has "policy.d_model, reward_model.d_model, ppo.epochs"
check "nothing changed after refusing a changed job" test "$before" == "$(fingerprint "$work/out_changed")"

write_job no_checkpoint
run no_checkpoint --resume
check "--resume without a checkpoint exits 2" test "$code" -eq 2
check "it says so" has "--resume: no checkpoint in $work/out_no_checkpoint/checkpoints"

# --- Non-finite updates: a learning rate that blows the policy up. --------
write_job nan "value_learning_rate: 1e30 max_skipped_updates: 2"
run nan
check "non-finite updates stop the job (exit 1)" test "$code" -eq 1
check "with a clear message" has "updates in a row had every step skipped for a non-finite loss or gradient (ppo.max_skipped_updates)"
check "skipped steps are counted" grep -q '"skipped_steps":[1-9]' "$work/out_nan/metrics.jsonl"

# --- Output folder that cannot be written. --------------------------------
touch "$work/a_file"
write_job unwritable "" "$work/a_file/out"
run unwritable
check "an output folder below a file exits 2 (bad input)" test "$code" -eq 2
check "it names the folder" has "$work/a_file/out"

finish_checks resume
