#!/usr/bin/env bash
# The first ten minutes of a new user: the progress wrapper of the long Bazel
# steps (deploy/progress.py) speaks at least every --every seconds, passes
# errors through, keeps control characters out of logs and returns the
# command's exit code; deploy/report.sh draws a real RLHF run and a real
# reward-model run (finished, and caught mid-write), and its plots read back
# as images of the right size that are not blank.
set -uo pipefail
trainer=$1
mpirun_local=$2
progress=$3
report=$4
generator=$5
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }
draw() { out=$("$report" "$1" 2>&1); code=$?; }  # draw RUN_DIR
train() {  # train JOB_FILE: one rank, at most 5 minutes
  out=$(timeout --kill-after=5 300 "$mpirun_local" -np 1 "$trainer" --job="$1" 2>&1)
  code=$?
}

# --- deploy/progress.py on a real child process ------------------------------
# Silent for 7 s, then Bazel-shaped progress (with a carriage return and a
# colour code, as a terminal would get), an error line, exit 3.
cat >"$work/slow.sh" <<'CHILD'
sleep 7
printf '[12 / 340] Compiling model/transformer.cc; 3s processwrapper-sandbox\r\n'
printf '[300 / 340] 4 / 9 tests; Testing //tests:rlhf_job_test; 2s processwrapper-sandbox\n'
printf '\033[31mERROR: model/x.cc:3:1: something broke\033[0m\n'
sleep 3
exit 3
CHILD
start=$(date +%s.%N)
/usr/bin/python3 "$progress" --label build --every 2 -- bash "$work/slow.sh" 2>&1 |
  while IFS= read -r line; do
    printf '%s %s\n' "$(date +%s.%N)" "$line"
  done >"$work/progress.log"
code=${PIPESTATUS[0]}
out=$(cat "$work/progress.log")
check "progress: the command's exit code" test "$code" -eq 3
check "progress: a line at least every 2 s (+1 s) while silent" /usr/bin/python3 - "$start" "$work/progress.log" <<'PY'
import sys
start = float(sys.argv[1])
times = [start] + [float(l.split()[0]) for l in open(sys.argv[2])]
gaps = [b - a for a, b in zip(times, times[1:])]
print("gaps", ["%.1f" % g for g in gaps])
sys.exit(0 if len(times) >= 6 and max(gaps) <= 3.0 else 1)
PY
check "progress: heartbeat says the time" has "build: starting, 2 s"
check "progress: the error passes through" has "ERROR: model/x.cc:3:1: something broke"
check "progress: no control characters" test "$(grep -c $'[\r\033]' "$work/progress.log")" -eq 0
check "progress: tests counted" has "4 / 9 tests done; running //tests:rlhf_job_test"
check "progress: the end said" has "build: failed (exit 3) after"
out=$(/usr/bin/python3 "$progress" --label x --every 0 -- true 2>&1)
code=$?
check "progress: --every 0 refused" test "$code" -eq 2

# --- deploy/report.sh on a real RLHF run --------------------------------------
e2e job rlhf_tiny name=rlhf output_dir="$work/rlhf" learners=1 rollouts=1 \
  placement=COLOCATED >"$work/rlhf.pbtxt"
train "$work/rlhf.pbtxt"
check "RLHF run exits 0" test "$code" -eq 0
draw "$work/rlhf"
check "report on the RLHF run exits 0" test "$code" -eq 0
check "report.md written" grep -q "^## RLHF: 3 rounds logged" "$work/rlhf/report.md"
for plot in rewards rm_accuracy win_tie_lose time_split optimisation; do
  check "RLHF plot $plot linked" grep -q "(report_$plot.png)" "$work/rlhf/report.md"
done
images() {  # images DIR NAME...: each DIR/NAME is a PNG of at least 400x300, not blank
  /usr/bin/python3 - "$@" <<'PY'
import sys
import matplotlib.image as mpimg
folder = sys.argv[1]
for name in sys.argv[2:]:
    pixels = mpimg.imread("%s/%s" % (folder, name))
    height, width = pixels.shape[:2]
    rgb = pixels[..., :3]
    # Not blank: axes and text are black and grey; the data are in colour.
    colour = ((rgb.max(axis=2) - rgb.min(axis=2)) > 0.3).mean()
    print(name, width, height, "coloured pixels %.4f" % colour)
    if width < 400 or height < 300 or colour < 0.003:
        sys.exit("%s: no data drawn, or too small" % name)
PY
}
check "RLHF plots are images with ink" images "$work/rlhf" report_rewards.png \
  report_rm_accuracy.png report_win_tie_lose.png report_time_split.png \
  report_optimisation.png

# A running job: its rounds.jsonl ends mid-line. The report skips that line.
mkdir -p "$work/running"
cp "$work/rlhf/metrics.jsonl" "$work/running/"
head -n 2 "$work/rlhf/rounds.jsonl" >"$work/running/rounds.jsonl"
tail -n 1 "$work/rlhf/rounds.jsonl" | head -c 40 >>"$work/running/rounds.jsonl"
draw "$work/running"
check "report on a running job exits 0" test "$code" -eq 0
check "report on a running job: two rounds" grep -q "^## RLHF: 2 rounds logged" "$work/running/report.md"
# A broken line that is not the last one is an error naming the line.
printf 'not json\n' >"$work/running/rounds.jsonl"
head -n 1 "$work/rlhf/rounds.jsonl" >>"$work/running/rounds.jsonl"
draw "$work/running"
check "a bad line: exit 2" test "$code" -eq 2
check "a bad line: named" has "$work/running/rounds.jsonl:1: not a JSON line"
draw "$work/nothing_here"
check "no run folder: exit 2" test "$code" -eq 2
mkdir -p "$work/empty"
draw "$work/empty"
check "a folder without run outputs: exit 2" test "$code" -eq 2
check "a folder without run outputs: said" has "no run outputs here"

# --- deploy/report.sh on a real reward-model run ------------------------------
/usr/bin/python3 "$generator" "$work/data" --pairs 320 --k 4 --seed 3 >/dev/null
cat >"$work/rm.pbtxt" <<JOB
name: "rm"
kind: REWARD_MODEL_ONLY
seed: 5
output_dir: "$work/rm"
topology { learner_ranks: 1 rollout_ranks: 1 placement: COLOCATED }
task {
  name: "preference_file"
  train_pairs: "data/train.jsonl"
  eval_pairs: "data/eval.jsonl"
  shifted_pairs: "data/shifted.jsonl"
  meta_responses: "data/meta.jsonl"
  max_prompt_tokens: 12
  max_response_tokens: 24
}
reward_model { d_model: 32 n_layers: 1 n_heads: 4 max_seq_len: 40 }
reward_training {
  mode: METARM eta: 0.01 learning_rate: 2e-3
  batch_size: 24 meta_batch_size: 12 responses_per_prompt: 4 epochs: 2
}
JOB
train "$work/rm.pbtxt"
check "reward-model run exits 0" test "$code" -eq 0
draw "$work/rm"
check "report on the reward-model run exits 0" test "$code" -eq 0
check "reward-model report: two epochs" grep -q "^## Reward model: 2 epochs" "$work/rm/report.md"
check "reward-model report: METARM's diagnostics shown" grep -q "gradient cosine" "$work/rm/report.md"
check "reward-model plot is an image with ink" images "$work/rm" report_reward_training.png

finish_checks first_minutes
