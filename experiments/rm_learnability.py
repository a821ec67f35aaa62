#!/usr/bin/python3
"""How well the reproduction's reward model learns the testbed's gold reward,
under more data and other optimiser settings (experiments/rm_learnability.sh).

    rm_learnability.py plan OUT_DIR [--quick]   # writes jobs, prints NAME JOB
    rm_learnability.py table OUT_DIR            # the markdown table

Every job is the reproduction's VANILLA job (experiments/reproduce_plan.py,
full profile) cut to one round with one PPO iteration: SFT, the original
pairs, and one round of reward-model training, whose held-out accuracy
(rm_acc_original, identical pairs left out) is all that is read. Only the
reward-model settings of each variant differ. A seed's round-1 accuracy is
the one the reproduction's VANILLA arm of that seed reaches, since the two
jobs agree up to the end of that round's reward-model training.

Environment: TESTBEDS and VARIANTS pick testbeds and settings by name,
joined by "|"; SEEDS (space-separated, default "1") the seeds.
"""
import json
import os
import statistics
import sys

import reproduce_plan

# name: the fields of reproduce_plan.TEMPLATE the variant sets differently
# from the reproduction (DEFAULTS).
FULL = reproduce_plan.PROFILES["full"]
DEFAULTS = dict(reproduce_plan.shared_fields(FULL),
                label_temperature=reproduce_plan.LABEL_TEMPERATURE)
VARIANTS = {
    "reproduction (1024 pairs)": {},
    "4096 pairs": dict(pairs=4096),
    "4096 pairs, lr 3e-4": dict(pairs=4096, reward_learning_rate="3e-4"),
    "4096 pairs, cosine to 0.1": dict(
        pairs=4096,
        reward_training_extra=" schedule { decay: COSINE min_lr_ratio: 0.1 }"),
    "2048 pairs, weight decay 0.1": dict(
        pairs=2048, reward_training_extra=" weight_decay: 0.1"),
    "2048 pairs, dropout 0.1": dict(pairs=2048,
                                    reward_model_extra="dropout: 0.1 "),
    "2048 pairs": dict(pairs=2048),
    "1024 pairs, 2 epochs": dict(reward_epochs=2),
    "label temperature 0.05": dict(label_temperature=0.05),
    "label temperature 0.05, 2048 pairs": dict(label_temperature=0.05,
                                               pairs=2048),
    "label temperature 0.05, 4096 pairs": dict(label_temperature=0.05,
                                               pairs=4096),
    # Not the reproduction's size: is the model what limits it?
    "reward model d_model 128, 4 layers": dict(reward_d_model=128,
                                               reward_layers=4),
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
    # Gold networks of teachers trained on fewer pairs than data/gold's
    # 16,384: TEACHER_PAIRS=N experiments/make_gold_network.sh
    # runs/gold_teacherN (docs/testbed.md, "Learnability across seeds").
    "reverse, gold network from 4096 teacher pairs": (
        "reverse", "runs/gold_teacher4096/reverse"),
    "reverse, gold network from 2048 teacher pairs": (
        "reverse", "runs/gold_teacher2048/reverse"),
}
# TESTBEDS="sort_ngram|reverse_ngram" (names joined by "|") picks others.
TASKS = os.environ.get(
    "TESTBEDS", "sort|reverse|sort, gold network|reverse, gold network"
).split("|")
SEEDS = [int(s) for s in os.environ.get("SEEDS", "1").split()]


def picked_variants(quick):
    names = os.environ.get("VARIANTS")
    if names:
        return names.split("|")
    return QUICK_VARIANTS if quick else list(VARIANTS)


def run_name(testbed, variant, seed):
    # Seed 1's runs keep the names they had before SEEDS existed.
    name = testbed + "_" + variant + ("" if seed == 1 else f"_seed{seed}")
    return "".join(c if c.isalnum() else "_" for c in name)


def job_text(testbed, variant, seed, out_dir):
    task, gold_network = TESTBEDS[testbed]
    name = run_name(testbed, variant, seed)
    return reproduce_plan.TEMPLATE.format(
        profile="rm_learnability", name=name, seed=seed, arm_seed=0,
        out=f"{out_dir}/{name}", task=task,
        gold_network=reproduce_plan.gold_network_line(gold_network),
        best_of_n=0, **reproduce_plan.REWARD_MODEL_ONLY,
        **dict(DEFAULTS, **VARIANTS[variant]))


def plan(out_dir, quick):
    os.makedirs(out_dir, exist_ok=True)
    for task in TASKS:
        for variant in picked_variants(quick):
            for seed in SEEDS:
                name = run_name(task, variant, seed)
                with open(f"{out_dir}/{name}.pbtxt", "w") as f:
                    f.write(job_text(task, variant, seed, out_dir))
                print(name, f"{out_dir}/{name}.pbtxt")


def quarter_means(values):
    q = max(1, len(values) // 4)
    return [statistics.mean(values[i * q:(i + 1) * q]) for i in range(4)]


def round_one(run):
    """(held-out accuracy, its pairs, the gold's own accuracy, step losses)."""
    rounds = [json.loads(l) for l in open(run + "/rounds.jsonl")]
    r1 = next(r for r in rounds if r["round"] == 1)
    losses = [json.loads(l)["loss"] for l in open(run + "/reward_steps.jsonl")]
    return (r1["rm_acc_original"], r1["rm_acc_original_pairs"],
            r1["gold_acc_original"], losses)


def accuracy_cell(results):
    """One seed: its accuracy (pairs). Several: mean, range, seeds >= 0.75."""
    if len(results) == 1:
        return "%.3f (%d)" % results[0][:2]
    accs = [r[0] for r in results]
    return "%.3f (%.3f–%.3f; %d of %d seeds ≥ 0.75)" % (
        statistics.mean(accs), min(accs), max(accs),
        sum(a >= 0.75 for a in accs), len(accs))


def table(out_dir):
    seeds = "" if SEEDS == [1] else ", mean over seeds %s" % " ".join(
        map(str, SEEDS))
    print("| task | reward-model setting | steps | held-out accuracy "
          "(pairs)%s | gold's own accuracy | training loss by quarter |" % seeds)
    print("|---|---|---|---|---|---|")
    for task in TASKS:
        for variant in VARIANTS:
            runs = [f"{out_dir}/{run_name(task, variant, s)}" for s in SEEDS]
            if not all(os.path.exists(r + "/rounds.jsonl") for r in runs):
                continue
            results = [round_one(r) for r in runs]
            quarters = [quarter_means(r[3]) for r in results]
            print("| %s | %s | %d | %s | %.3f | %s |" % (
                task, variant, len(results[0][3]), accuracy_cell(results),
                statistics.mean(r[2] for r in results),
                " ".join("%.2f" % statistics.mean(q[i] for q in quarters)
                         for i in range(4))))


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
