#!/usr/bin/python3
"""Writes the job files of experiments/reproduce.sh and the list of runs.

    reproduce_plan.py PROFILE OUT_DIR   (PROFILE: full, quick or smoke)

Every run is an RLHF job (SFT, then `rounds` rounds of reward model + PPO)
on one testbed task, one seed and one reward-model configuration. All runs
of a task and seed share the seed, so they start from the same SFT policy
and the same original preference pairs and are judged on the same prompts
against the same SFT samples (the paired design); the A/A arm differs from
VANILLA only in arm_seed. Prints one line per run: NAME JOB_FILE.
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

# seeds: the paired comparison's seeds (VANILLA, METARM and the A/A arm,
# VANILLA again with another arm_seed, on each); sweep_seeds: the η sweep and
# the variants; fixed_rm_seeds: the over-optimisation check (one round of PPO
# against a VANILLA reward model held fixed, pushed hard).
PROFILES = {
    # At most 2 hours on 2 cores, two runs at a time.
    "full": dict(seeds=[1, 2, 3, 4, 5, 6, 7, 8], sweep_seeds=[1, 2, 3],
                 fixed_rm_seeds=[1, 2, 3], tasks=["sort", "reverse"],
                 rounds=3, sft_steps=600, iterations=20, d_model=64,
                 layers=2, pairs=1024, eval_prompts=512,
                 fixed_rm_iterations=120, fixed_rm_learning_rate=2e-4),
    # At most 10 minutes: fewer seeds and steps, no sweep, the same report.
    "quick": dict(seeds=[1, 2], sweep_seeds=[], fixed_rm_seeds=[1],
                  tasks=["sort", "reverse"], rounds=3, sft_steps=200,
                  iterations=8, d_model=64, layers=2, pairs=512,
                  eval_prompts=128, fixed_rm_iterations=24,
                  fixed_rm_learning_rate=2e-4),
    # The test suite's form: tiny models, every part of the report.
    "smoke": dict(seeds=[1, 2], sweep_seeds=[1, 2], fixed_rm_seeds=[1],
                  tasks=["sort", "reverse"], rounds=3, sft_steps=40,
                  iterations=2, d_model=32, layers=1, pairs=128,
                  eval_prompts=16, fixed_rm_iterations=4,
                  fixed_rm_learning_rate=2e-4),
}

# The A/A arm's arm_seed: VANILLA with every stream after the shared start
# moved (util/random_streams.h), so its difference from VANILLA is noise.
AA_CONFIG = "VANILLA_arm1"
FIXED_RM_CONFIG = "FIXED_RM"
POLICY_LEARNING_RATE = 2e-5
# PPO's KL penalty (the papers' 0.05); the fixed-reward-model check runs
# without it, as Gao et al. (2022) measure over-optimisation: the policy may
# go as far from SFT as the proxy leads it (docs/testbed.md).
KL_COEF = 0.05
# The reward model's settings every run shares; experiments/rm_learnability.py
# varies them.
REWARD_MODEL_DEFAULTS = dict(reward_learning_rate="1e-3", reward_epochs=1,
                             reward_training_extra="", reward_model_extra="")
# A run that only trains the reward model: one round of one VANILLA PPO
# iteration (experiments/rm_learnability.py, experiments/gold_network.py).
REWARD_MODEL_ONLY = dict(mode="VANILLA", eta=0, gap_lambda=0, iterations=1,
                         rounds=1, policy_lr=POLICY_LEARNING_RATE,
                         kl_coef=KL_COEF)
# The gold labels' Bradley-Terry temperature.
LABEL_TEMPERATURE = 0.1
# Each task's gold reward: the repository's gold network (task.gold_network,
# experiments/make_gold_network.sh), which the reward model can learn,
# instead of the formula's position match (docs/testbed.md).
GOLD_NETWORKS = {"sort": "data/gold/sort", "reverse": "data/gold/reverse"}


def shared_fields(profile):
    """The TEMPLATE fields every run of a profile shares: its steps and sizes,
    a reward model of the policy's size (experiments/rm_learnability.py tries
    others) and REWARD_MODEL_DEFAULTS."""
    fields = {k: profile[k] for k in ("sft_steps", "d_model", "layers", "pairs",
                                      "eval_prompts")}
    fields.update(reward_d_model=profile["d_model"],
                  reward_layers=profile["layers"], **REWARD_MODEL_DEFAULTS)
    return fields


def gold_network_line(folder):
    """The task block's task.gold_network line, or nothing for the formula."""
    return f'\n  gold_network: "{folder}"' if folder else ""
# The best-of-n pre-test's n (eval.best_of_n): every round's reward model
# picks among the same n SFT samples per evaluation prompt.
BEST_OF_N = 8

TEMPLATE = """# Written by experiments/reproduce_plan.py ({profile} profile).
name: "{name}"
seed: {seed}
arm_seed: {arm_seed}
output_dir: "{out}"
topology {{ learner_ranks: 1 rollout_ranks: 1 placement: COLOCATED }}
task {{
  name: "{task}"{gold_network}
  label_temperature: {label_temperature}
  num_train_prompts: 128
  num_preference_pairs: {pairs}
  num_eval_prompts: {eval_prompts}
  max_prompt_tokens: 16
  max_response_tokens: 12
}}
policy {{ d_model: {d_model} n_layers: {layers} n_heads: 4 max_seq_len: 32 }}
reward_model {{ {reward_model_extra}d_model: {reward_d_model} n_layers: {reward_layers} n_heads: 4 max_seq_len: 32 }}
sft {{ steps: {sft_steps} batch_size: 64 learning_rate: 1e-3 }}
reward_training {{
  mode: {mode}
  eta: {eta}
  gap_lambda: {gap_lambda}
  learning_rate: {reward_learning_rate}
  batch_size: 16{reward_training_extra}
  meta_batch_size: 16
  responses_per_prompt: 5
  epochs: {reward_epochs}
}}
ppo {{
  rollout_batch_size: 64
  minibatch_size: 32
  epochs: 2
  iterations_per_round: {iterations}
  policy_learning_rate: {policy_lr}
  value_learning_rate: 1e-4
  kl_coef: {kl_coef}
  temperature: 0.8
  top_p: 0.9
}}
eval {{ num_prompts: {eval_prompts} shifted_pairs: {eval_prompts} best_of_n: {best_of_n} }}
logging {{ progress: false }}
rounds: {rounds}
"""


def sweep_configs():
    """(config name, mode, η, λ) of the sweep around the chosen η."""
    out = [(f"METARM_eta{eta:g}", "METARM", eta, 0)
           for eta in ETA_SWEEP if eta != CHOSEN_ETA]
    out += [(f"METARM_EXACT_eta{eta:g}", "METARM_EXACT", eta, 0)
            for eta in EXACT_ETAS]
    out += [(f"GAP_REGULARIZED_lambda{lam:g}", "GAP_REGULARIZED", 0, lam)
            for lam in GAP_LAMBDAS]
    return out


def runs_of(profile_name, profile):
    """Every run: (task, seed, config, job fields)."""
    runs = []
    base = dict(arm_seed=0, gap_lambda=0, iterations=profile["iterations"],
                rounds=profile["rounds"], policy_lr=POLICY_LEARNING_RATE,
                kl_coef=KL_COEF)
    for task in profile["tasks"]:
        for seed in profile["seeds"]:
            runs.append((task, seed, "VANILLA",
                         dict(base, mode="VANILLA", eta=0)))
            runs.append((task, seed, f"METARM_eta{CHOSEN_ETA:g}",
                         dict(base, mode="METARM", eta=CHOSEN_ETA)))
            runs.append((task, seed, AA_CONFIG,
                         dict(base, mode="VANILLA", eta=0, arm_seed=1)))
        for seed in profile["sweep_seeds"]:
            for config, mode, eta, lam in sweep_configs():
                runs.append((task, seed, config,
                             dict(base, mode=mode, eta=eta, gap_lambda=lam)))
        if profile_name == "full":
            seed = profile["sweep_seeds"][0]
            runs.append((task, seed, "METARM_eta0",
                         dict(base, mode="METARM", eta=0)))
        for seed in profile["fixed_rm_seeds"]:
            runs.append((task, seed, FIXED_RM_CONFIG, dict(
                base, mode="VANILLA", eta=0, rounds=1,
                iterations=profile["fixed_rm_iterations"],
                policy_lr=profile["fixed_rm_learning_rate"], kl_coef=0)))
    return runs


def main():
    name, out_dir = sys.argv[1], sys.argv[2]
    profile = PROFILES[name]
    os.makedirs(out_dir + "/jobs", exist_ok=True)
    for task, seed, config, fields in runs_of(name, profile):
        run = f"{task}_{config}_seed{seed}"
        job = f"{out_dir}/jobs/{run}.pbtxt"
        with open(job, "w") as f:
            f.write(TEMPLATE.format(profile=name, name=run, seed=seed,
                                    out=f"{out_dir}/{run}", task=task,
                                    gold_network=gold_network_line(
                                        GOLD_NETWORKS[task]),
                                    label_temperature=LABEL_TEMPERATURE,
                                    best_of_n=BEST_OF_N,
                                    **shared_fields(profile), **fields))
        print(run, job)


if __name__ == "__main__":
    main()
