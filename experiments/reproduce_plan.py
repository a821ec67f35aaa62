#!/usr/bin/python3
"""Writes the job files of experiments/reproduce.sh and the list of runs.

    reproduce_plan.py PROFILE OUT_DIR   (PROFILE: full, quick or smoke)

Every run is an RLHF job (SFT, then `rounds` rounds of reward model + PPO)
on one testbed task, one seed and one reward-model configuration. All runs
of a task and seed share everything but reward_training, so they start from
the same SFT policy and the same original preference pairs. Prints one line
per run: NAME JOB_FILE.
"""
import os
import sys

# The η chosen for METARM (the reward-model level results of
# docs/reward_model.md) and the sweeps around it. METARM with η = 0 is
# VANILLA bit for bit (reward/reward_trainer_test.cc), so VANILLA stands for
# η = 0 in the sweep; the full profile also runs it once per task to show it.
CHOSEN_ETA = 0.1
ETA_SWEEP = [0.03, 0.1, 0.3, 1.0]
EXACT_ETAS = [0.03, 0.1, 0.3]
GAP_LAMBDAS = [0.1, 0.3, 1.0]

PROFILES = {
    # At most 45 minutes on 2 cores, two runs at a time.
    "full": dict(seeds=[1, 2, 3], tasks=["sort", "reverse"], rounds=3,
                 sft_steps=600, iterations=20, d_model=64, layers=2,
                 pairs=1024, eval_prompts=128, sweeps=True),
    # At most 5 minutes: one seed, fewer steps, the same report.
    "quick": dict(seeds=[1], tasks=["sort", "reverse"], rounds=3,
                  sft_steps=200, iterations=8, d_model=64, layers=2,
                  pairs=512, eval_prompts=64, sweeps=True),
    # The test suite's form: tiny models, every part of the report.
    "smoke": dict(seeds=[1, 2], tasks=["sort", "reverse"], rounds=3,
                  sft_steps=40, iterations=2, d_model=32, layers=1,
                  pairs=128, eval_prompts=16, sweeps=True),
}

TEMPLATE = """# Written by experiments/reproduce_plan.py ({profile} profile).
name: "{name}"
seed: {seed}
output_dir: "{out}"
topology {{ learner_ranks: 1 rollout_ranks: 1 placement: COLOCATED }}
task {{
  name: "{task}"
  label_temperature: 0.1
  num_train_prompts: 128
  num_preference_pairs: {pairs}
  num_eval_prompts: {eval_prompts}
  max_prompt_tokens: 16
  max_response_tokens: 12
}}
policy {{ d_model: {d_model} n_layers: {layers} n_heads: 4 max_seq_len: 32 }}
reward_model {{ d_model: {d_model} n_layers: {layers} n_heads: 4 max_seq_len: 32 }}
sft {{ steps: {sft_steps} batch_size: 64 learning_rate: 1e-3 }}
reward_training {{
  mode: {mode}
  eta: {eta}
  gap_lambda: {gap_lambda}
  learning_rate: 1e-3
  batch_size: 32
  meta_batch_size: 16
  responses_per_prompt: 4
  epochs: 2
}}
ppo {{
  rollout_batch_size: 64
  minibatch_size: 32
  epochs: 2
  iterations_per_round: {iterations}
  policy_learning_rate: 2e-5
  value_learning_rate: 1e-4
  kl_coef: 0.05
}}
eval {{ num_prompts: {eval_prompts} shifted_pairs: {eval_prompts} }}
logging {{ progress: false }}
rounds: {rounds}
"""


def configs(profile):
    """(config name, mode, η, λ) of every reward-model configuration."""
    out = [("VANILLA", "VANILLA", 0, 0),
           (f"METARM_eta{CHOSEN_ETA:g}", "METARM", CHOSEN_ETA, 0)]
    if profile["sweeps"]:
        out += [(f"METARM_eta{eta:g}", "METARM", eta, 0)
                for eta in ETA_SWEEP if eta != CHOSEN_ETA]
        out += [(f"METARM_EXACT_eta{eta:g}", "METARM_EXACT", eta, 0)
                for eta in EXACT_ETAS]
        out += [(f"GAP_REGULARIZED_lambda{lam:g}", "GAP_REGULARIZED", 0, lam)
                for lam in GAP_LAMBDAS]
    return out


def main():
    name, out_dir = sys.argv[1], sys.argv[2]
    profile = PROFILES[name]
    os.makedirs(out_dir + "/jobs", exist_ok=True)
    runs = []
    for task in profile["tasks"]:
        for seed in profile["seeds"]:
            for config, mode, eta, lam in configs(profile):
                runs.append((task, seed, config, mode, eta, lam))
            if name == "full" and seed == profile["seeds"][0]:
                runs.append((task, seed, "METARM_eta0", "METARM", 0, 0))
    for task, seed, config, mode, eta, lam in runs:
        run = f"{task}_{config}_seed{seed}"
        job = f"{out_dir}/jobs/{run}.pbtxt"
        with open(job, "w") as f:
            f.write(TEMPLATE.format(
                profile=name, name=run, seed=seed, out=f"{out_dir}/{run}",
                task=task, mode=mode, eta=eta, gap_lambda=lam, **{
                    k: v for k, v in profile.items()
                    if k not in ("seeds", "tasks", "sweeps")}))
        print(run, job)


if __name__ == "__main__":
    main()
