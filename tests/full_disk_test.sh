#!/usr/bin/env bash
# A disk that fills up at any moment of a run: the tiny RLHF job (one rank)
# runs on tmpfs disks of several sizes, so that the disk fills while a
# weights file, an optimizer file, a JSON file, a JSON-lines log or a
# TensorBoard event file is being written. Every run must end with exit 1 and
# "PATH: cannot write: No space left on device" naming a file of the run (no
# abort, no LibTorch stack trace), leave the newest complete checkpoint
# intact, and leave no log with half a line. The kinds of file the failures
# landed in are printed and must include each writer's: weights and optimizer
# state, a checkpoint's text files, a log.
set -uo pipefail
trainer=$1
mpirun_local=$2
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
e2e() { /usr/bin/python3 "$(dirname "$0")/e2e.py" "$@"; }

disk="$work/disk"
mkdir -p "$disk"
if ! mount -t tmpfs -o size=64m tmpfs "$disk" 2>/dev/null; then
  echo "NOTE: full-disk checks not run: cannot mount a tmpfs here (needs root)"
  exit 0
fi
trap 'umount "$disk" 2>/dev/null' EXIT

write_job() {  # write_job OUTPUT_DIR
  e2e job rlhf_tiny name=full_disk seed=5 output_dir="$1" learners=1 \
    rollouts=1 placement=COLOCATED task=sort eval_prompts=16 sft_steps=20 \
    rounds=2 \
    extra="checkpoint { every_iterations: 1 keep_last: 2 } logging { progress: false tensorboard: true }" \
    >"$work/full_disk.pbtxt"
}

# The whole run's footprint on an unlimited disk: the sizes below are
# fractions of it, so the failures move through the run.
write_job "$disk/whole"
timeout 300 "$mpirun_local" -np 1 "$trainer" --job="$work/full_disk.pbtxt" \
  --threads_per_rank=1 >"$work/whole.log" 2>&1
check "the run on a big disk exits 0" test $? -eq 0
total_kb=$(du -sk "$disk/whole" | cut -f1)
echo "the run writes $total_kb KiB in all"
umount "$disk"

# Two small disks fill up in the first log lines; then every 2 % of the
# footprint up to 64 %, through the first two checkpoints (the files' order
# and sizes are fixed by the seed).
kinds=""
for size_kb in 4 8 $(seq $((total_kb / 50)) $((total_kb / 50)) $((total_kb * 64 / 100))); do
  percent=$((100 * size_kb / total_kb))
  mount -t tmpfs -o size=${size_kb}k tmpfs "$disk"
  write_job "$disk/out"
  out=$(timeout 300 "$mpirun_local" -np 1 "$trainer" \
    --job="$work/full_disk.pbtxt" --threads_per_rank=1 2>&1)
  code=$?
  file=$(grep -o "[^ ]*: cannot write: No space left on device" <<<"$out" |
    head -n 1 | sed 's/: cannot write: .*//')
  echo "disk of ${size_kb} KiB ($percent %): exit $code, full while writing ${file:-?}"
  check "$percent %: exit 1" test "$code" -eq 1
  check "$percent %: the message names a file of the run" \
    test -n "$file" -a "${file#"$disk/out"}" != "$file"
  check "$percent %: no abort and no stack trace" \
    bash -c '! grep -q "terminate called\|Exception raised from\|frame #" <<<"$1"' _ "$out"
  good=$(ls "$disk/out/checkpoints" 2>/dev/null | grep -v tmp | tail -n 1)
  if [[ -n "$good" ]]; then
    check "$percent %: the newest complete checkpoint is intact" \
      e2e checkpoint_intact "$disk/out/checkpoints/$good"
  fi
  for log in "$disk/out"/*.jsonl; do
    [[ -s "$log" ]] || continue
    check "$percent %: $(basename "$log") ends with a whole line" \
      test "$(tail -c 1 "$log" | od -An -c | tr -d ' ')" == '\n'
  done
  case "$file" in
    *_optimizer.pt) kinds+=" optimizer" ;;
    *.pt) kinds+=" weights" ;;
    */checkpoints/*) kinds+=" checkpoint-text" ;;  # JSON, JSON lines, job
    *.jsonl) kinds+=" log" ;;
    *tfevents*) kinds+=" events" ;;
    *) kinds+=" other" ;;
  esac
  umount "$disk"
done
echo "the disk filled while writing:$kinds"
# One kind per writer: LibTorch archives (util/archive_file.h), whole files
# written atomically, lines appended to a log.
for kind in weights optimizer checkpoint-text log; do
  check "one of the runs filled up in a file of kind $kind" grep -qw -- "$kind" <<<"$kinds"
done

finish_checks full_disk
