#!/usr/bin/env bash
# RLHF on the user's own data (task.name "preference_file"), on real MPI
# ranks: a tiny pretrained GPT-2 policy and a larger GPT-2 judge reward model
# made here (tests/data_rlhf.py), JSON-lines pairs, chat prompts and SFT
# demonstrations, the HH template.
#  - 1 learner + 1 rollout worker and 2 learners + 1 rollout worker run
#    METARM rounds; every judged metric of rounds.jsonl is recomputed from
#    eval_samples.jsonl, the judge's scores by an independent forward pass;
#  - a run killed inside a checkpoint write and resumed ends with the same
#    numbers as the uninterrupted run; asynchronous rollouts run too;
#  - a judge in metarm's weights (reward_model.pt) works as a Hugging Face
#    folder does;
#  - without eval.judge the proxy-side metrics are written, the judged ones
#    are absent, and the output says so;
#  - bad data, a judge with another tokenizer, a template the tokenizer
#    cannot end and a tokenizer with no end token are refused before any
#    work: exit 2, the file, line and reason named, no output folder.
set -uo pipefail
export METARM_TEST_CRASH=""
trainer=$1
mpirun_local=$2
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"

e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }
data_rlhf() { /usr/bin/python3 "$(dirname "$0")/data_rlhf.py" "$@"; }

data_rlhf make "$work/data" || exit 1

write_job() {  # write_job NAME LEARNERS [ASSIGNMENTS...]
  local name=$1 learners=$2
  shift 2
  e2e job data_rlhf_tiny name="$name" output_dir="$work/out_$name" \
    data="$work/data" judge="$work/data/judge" learners="$learners" "$@" \
    >"$work/$name.pbtxt"
}

run() {  # run NAME RANKS [FLAGS...]: in the foreground
  local name=$1 ranks=$2
  shift 2
  out=$(timeout --kill-after=5 300 "$mpirun_local" -x METARM_TEST_CRASH \
    -np "$ranks" "$trainer" --job="$work/$name.pbtxt" --threads_per_rank=1 "$@" 2>&1)
  code=$?
}

recomputed() {  # recomputed NAME: the judged metrics against eval_samples
  data_rlhf check "$work/out_$1" "$work/data/judge" 40 12 0.05
}

# --- 1 learner + 1 rollout worker. -----------------------------------------
write_job one 1
run one 2
check "1+1: exits 0" test "$code" -eq 0
check "1+1: judged rounds printed" has "round 2: judge "
check "1+1: judged metrics recomputed from eval_samples.jsonl" recomputed one
check "1+1: three lines in rounds.jsonl" test "$(wc -l <"$work/out_one/rounds.jsonl")" -eq 3
check "1+1: the fit rule's counts are logged (1 shortened, 1 dropped of 32)" \
  grep -q '"train_prompts":{"dropped_too_long":1,"kept":31,"read":32,"shortened":1}' \
  "$work/out_one/rounds.jsonl"
check "1+1: held out a quarter of the 48 pairs" \
  grep -q '"held_out_pairs":12' "$work/out_one/rounds.jsonl"

# --- 2 learners + 1 rollout worker, checkpoints every iteration. ----------
write_job two 2 extra="checkpoint { every_iterations: 1 keep_last: 2 }"
run two 3
check "2+1: exits 0" test "$code" -eq 0
check "2+1: judged metrics recomputed from eval_samples.jsonl" recomputed two

# --- Killed inside a checkpoint write, resumed. ---------------------------
write_job killed 2 extra="checkpoint { every_iterations: 1 keep_last: 2 }"
# The job's name differs; so that the runs can be compared it does not
# enter any number.
METARM_TEST_CRASH=checkpoint_write:4 run killed 3
check "killed in a checkpoint write: exits non-zero" test "$code" -ne 0
METARM_TEST_CRASH= run killed 3
check "resumed: exits 0" test "$code" -eq 0
check "resumed: says so" has "metarm: resuming from the checkpoint"
check "resumed: the same numbers as the uninterrupted run" \
  e2e same "$work/out_two" "$work/out_killed" metrics.jsonl rounds.jsonl \
  reward_model.jsonl eval_samples.jsonl
check "resumed: the same final policy" cmp -s "$work/out_two/policy.pt" "$work/out_killed/policy.pt"

# --- Asynchronous rollouts (ppo.max_staleness) on the same data. ----------
write_job stale 1 ppo_extra="max_staleness: 1"
run stale 2
check "max_staleness 1: exits 0" test "$code" -eq 0
check "max_staleness 1: judged metrics recomputed" recomputed stale

# --- No judge; SFT on a demonstrations file. ------------------------------
write_job nojudge 1 judge="" task_extra="sft_data: \"$work/data/sft.jsonl\"" rounds=1
run nojudge 2
check "no judge: exits 0" test "$code" -eq 0
check "no judge: the output says what is not measured" has "metarm: no eval.judge: the judged metrics"
check "no judge: proxy-side metrics written, no judged one" data_rlhf proxy_only "$work/out_nojudge"
check "no judge: 20 demonstrations from sft.jsonl" grep -q '"demonstrations":20' "$work/out_nojudge/rounds.jsonl"

# --- A judge in metarm's own weights (a REWARD_MODEL_ONLY job's). ---------
cat >"$work/judge_pt.pbtxt" <<JOB
name: "judge_pt"
kind: REWARD_MODEL_ONLY
output_dir: "$work/out_judge_pt"
topology { learner_ranks: 1 rollout_ranks: 1 }
task { name: "preference_file" train_pairs: "$work/data/pairs.jsonl"
       max_prompt_tokens: 40 max_response_tokens: 12 }
reward_model { d_model: 32 n_layers: 1 n_heads: 2 max_seq_len: 54 }
reward_training { mode: VANILLA batch_size: 8 epochs: 1 }
logging { progress: false }
JOB
run judge_pt 2
check "the judge's REWARD_MODEL_ONLY job exits 0" test "$code" -eq 0
write_job pt_judge 1 judge="$work/out_judge_pt/reward_model.pt" rounds=1
run pt_judge 2
check "a reward_model.pt judge: exits 0" test "$code" -eq 0
check "a reward_model.pt judge: judged rounds" has "round 1: judge "

# --- Bad input: exit 2 before any work, nothing written. ------------------
refused() {  # refused NAME MESSAGE [ASSIGNMENTS...]
  local name=$1 message=$2
  shift 2
  write_job "$name" 1 "$@"
  run "$name" 2
  check "$name: exit 2" test "$code" -eq 2
  check "$name: says \"$message\"" has "$message"
  check "$name: no output folder" test ! -e "$work/out_$name"
}
refused empty_prompt "prompts_empty.jsonl:2: field \"prompt\": empty prompt" \
  prompts=prompts_empty.jsonl
refused unknown_role "prompts_role.jsonl:1: messages[0]: unknown role \"robot\"" \
  task_extra="eval_prompts: \"$work/data/prompts_role.jsonl\""
refused pair_prompt "pairs_empty_prompt.jsonl:4: field \"prompt\": empty prompt" \
  task_extra="eval_pairs: \"$work/data/pairs_empty_prompt.jsonl\""
refused no_fit "none of its 32 prompts fits task.max_prompt_tokens = 20 tokens with task.chat_template HH" \
  max_prompt=20
refused judge_vocab "eval.judge: $work/data/judge_other_vocab has a vocabulary of 300 tokens and no tokenizer files of its own" \
  judge="$work/data/judge_other_vocab"
refused chatml_byte "task.chat_template CHATML ends a reply with <|im_end|>, which this tokenizer reads as 10 tokens" \
  template=CHATML
refused no_end_token "tokenizer_no_end/tokenizer.json: no token \"<|endoftext|>\" for bos_token" \
  task_extra="tokenizer: \"$work/data/tokenizer_no_end\""

# Two bad files at once: both named, by --validate_only (which reads the
# data files) as by a run.
write_job two_bad 1 prompts=prompts_empty.jsonl \
  task_extra="eval_prompts: \"$work/data/prompts_role.jsonl\""
for flags in --validate_only ""; do
  run two_bad 2 $flags
  check "two bad files (${flags:-a run}): exit 2" test "$code" -eq 2
  check "two bad files (${flags:-a run}): the first named" has "prompts_empty.jsonl:2: field \"prompt\": empty prompt"
  check "two bad files (${flags:-a run}): the second named" has "prompts_role.jsonl:1: messages[0]: unknown role \"robot\""
done
check "two bad files: no output folder" test ! -e "$work/out_two_bad"

finish_checks data_rlhf_job_test
