#!/usr/bin/env bash
# The end-to-end PPO iteration's time split on layouts 1+1, 1+2 and 2+2
# (learners + rollout workers): the quickstart job cut to SFT and one round
# of 10 PPO iterations, on this machine (oversubscribed: 2 to 4 ranks share
# its cores). Prints one row per layout: means over the iterations of
# metrics.jsonl's seconds, and the wall time of the PPO part.
#
#   bench/scaling.sh [OUT_DIR]     (default bench/out/scaling)
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh
out=${1:-bench/out/scaling}
mkdir -p "$out"
bazel_progress build build -c opt //trainer:metarm_train >&2
trainer=$(bazel info -c opt bazel-bin 2>/dev/null)/trainer/metarm_train
for layout in 1+1 1+2 2+2; do
  learners=${layout%+*}
  rollouts=${layout#*+}
  job="$out/job_$learners$rollouts.pbtxt"
  sed -e "s/learner_ranks: 2/learner_ranks: $learners/" \
      -e "s/rollout_ranks: 1/rollout_ranks: $rollouts/" \
      -e "s/iterations_per_round: 20/iterations_per_round: 10/" \
      -e "s/steps: 600/steps: 200/" -e "s/^rounds: 2/rounds: 1/" \
      -e "s|runs/quickstart\"|$out/run_$learners$rollouts\"|" \
      jobs/quickstart.pbtxt >"$job"
  rm -rf "$out/run_$learners$rollouts"
  deploy/mpirun_local.sh -np $((learners + rollouts)) "$trainer" --job="$job" >"$out/log_$learners$rollouts.txt" 2>&1
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
keys = ["generation", "scoring", "waiting_for_experience", "learning", "weight_sync"]
print(f"{'layout':8}" + "".join(f"{k:>24}" for k in keys) + f"{'sum of the parts':>18}")
rows = {}
for layout in ["11", "12", "22"]:
    lines = [json.loads(l) for l in open(f"{out}/run_{layout}/metrics.jsonl")]
    means = {k: sum(l["seconds"][k] for l in lines) / len(lines) for k in keys}
    rounds = [json.loads(l) for l in open(f"{out}/run_{layout}/rounds.jsonl")]
    # Wall time of the round (reward model + PPO + eval) from rounds.jsonl.
    wall = rounds[-1]["seconds"]
    rows[layout] = dict(means, round_end_seconds=wall)
    print(f"{layout[0]}+{layout[1]:6}" + "".join(f"{means[k]:24.4f}" for k in keys)
          + f"{sum(means.values()):18.4f}")
json.dump(rows, open(f"{out}/scaling.json", "w"), indent=1)
PY
