#!/usr/bin/python3
"""How well the reproduction's reward model learns the testbed's gold reward,
under more data and other optimiser settings (experiments/rm_learnability.sh).

    rm_learnability.py plan OUT_DIR [--quick]   # writes jobs, prints NAME JOB
    rm_learnability.py table OUT_DIR            # the markdown table

Every job is the reproduction's VANILLA job (experiments/reproduce_plan.py,
full profile, seed 1) cut to one round with one PPO iteration: SFT, the
original pairs, and one round of reward-model training, whose held-out
accuracy (rm_acc_original, identical pairs left out) is all that is read.
Only the reward-model settings of each variant differ.
"""
import json
import os
import statistics
import sys

import reproduce_plan

# name: (preference pairs, reward_learning_rate, reward_training_extra,
# reward_model_extra): the template fields of reproduce_plan.TEMPLATE.
VARIANTS = {
    "reproduction (1024 pairs)": (1024, "1e-3", "", ""),
    "4096 pairs": (4096, "1e-3", "", ""),
    "4096 pairs, lr 3e-4": (4096, "3e-4", "", ""),
    "4096 pairs, cosine to 0.1": (
        4096, "1e-3", " schedule { decay: COSINE min_lr_ratio: 0.1 }", ""),
    "2048 pairs, weight decay 0.1": (2048, "1e-3", " weight_decay: 0.1", ""),
    "2048 pairs, dropout 0.1": (2048, "1e-3", "", "dropout: 0.1 "),
}
QUICK_VARIANTS = ["reproduction (1024 pairs)", "4096 pairs"]
# The testbeds: a task and its gold reward, the formula's (tasks/
# letter_tasks.h) or the repository's gold network (task.gold_network).
TESTBEDS = {
    "sort": ("sort", ""),
    "reverse": ("reverse", ""),
    "sort, gold network": ("sort", "data/gold/sort"),
    "reverse, gold network": ("reverse", "data/gold/reverse"),
    "sort_ngram": ("sort_ngram", ""),
    "reverse_ngram": ("reverse_ngram", ""),
}
# TESTBEDS="sort_ngram|reverse_ngram" (names joined by "|") picks others.
TASKS = os.environ.get(
    "TESTBEDS", "sort|reverse|sort, gold network|reverse, gold network"
).split("|")
SEED = 1


def run_name(testbed, variant):
    return "".join(c if c.isalnum() else "_" for c in testbed + "_" + variant)


def job_text(testbed, variant, out_dir):
    pairs, lr, training, model = VARIANTS[variant]
    task, gold_network = TESTBEDS[testbed]
    full = reproduce_plan.PROFILES["full"]
    return reproduce_plan.TEMPLATE.format(
        profile="rm_learnability", name=run_name(testbed, variant), seed=SEED,
        arm_seed=0, out=f"{out_dir}/{run_name(testbed, variant)}", task=task,
        gold_network=reproduce_plan.gold_network_line(gold_network),
        label_temperature=reproduce_plan.LABEL_TEMPERATURE,
        best_of_n=0, sft_steps=full["sft_steps"], d_model=full["d_model"],
        layers=full["layers"], pairs=pairs, eval_prompts=full["eval_prompts"],
        mode="VANILLA", eta=0, gap_lambda=0, iterations=1, rounds=1,
        policy_lr=reproduce_plan.POLICY_LEARNING_RATE,
        kl_coef=reproduce_plan.KL_COEF,
        reward_learning_rate=lr, reward_training_extra=training,
        reward_model_extra=model)


def plan(out_dir, quick):
    os.makedirs(out_dir, exist_ok=True)
    for task in TASKS:
        for variant in (QUICK_VARIANTS if quick else VARIANTS):
            job = f"{out_dir}/{run_name(task, variant)}.pbtxt"
            with open(job, "w") as f:
                f.write(job_text(task, variant, out_dir))
            print(run_name(task, variant), job)


def quarter_means(values):
    q = max(1, len(values) // 4)
    return [statistics.mean(values[i * q:(i + 1) * q]) for i in range(4)]


def table(out_dir):
    print("| task | reward-model setting | steps | held-out accuracy "
          "(pairs) | gold's own accuracy | training loss by quarter |")
    print("|---|---|---|---|---|---|")
    for task in TASKS:
        for variant in VARIANTS:
            run = f"{out_dir}/{run_name(task, variant)}"
            if not os.path.exists(run + "/rounds.jsonl"):
                continue
            rounds = [json.loads(l) for l in open(run + "/rounds.jsonl")]
            r1 = next(r for r in rounds if r["round"] == 1)
            losses = [json.loads(l)["loss"]
                      for l in open(run + "/reward_steps.jsonl")]
            print("| %s | %s | %d | %.3f (%d) | %.3f | %s |" % (
                task, variant, len(losses), r1["rm_acc_original"],
                r1["rm_acc_original_pairs"], r1["gold_acc_original"],
                " ".join("%.2f" % m for m in quarter_means(losses))))


def main():
    command, out_dir = sys.argv[1], sys.argv[2]
    if command == "plan":
        plan(out_dir, "--quick" in sys.argv[3:])
    elif command == "table":
        table(out_dir)
    else:
        sys.exit(f"rm_learnability.py: unknown command '{command}'")


if __name__ == "__main__":
    main()
