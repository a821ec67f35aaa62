#!/usr/bin/python3
"""A picture of one run: RUN_DIR/report.md and PNG plots beside it.

    deploy/report.sh RUN_DIR      (the output folder of an RLHF or a
                                   REWARD_MODEL_ONLY job, finished or running)

RLHF runs (rounds.jsonl, metrics.jsonl): the gold (or judge) reward, the proxy
reward and the KL to the reference per PPO iteration; the reward model's
accuracy on original and shifted pairs per round; win/tie/lose against the
SFT policy per round; the time split of every iteration; the optimisation
(sft.jsonl's loss and gradient norm per SFT step, the PPO steps' learning
rates and gradient norms per iteration).
Reward-model runs (reward_model.jsonl, reward_steps.jsonl): loss and accuracy
per step, train and held-out accuracy per epoch.

A running job may be caught mid-line: an unfinished last line is left out.
Any other line that is not JSON is an error (exit 2, naming file and line).
"""
import datetime
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Learner 0's iteration, in order; the rollout worker generates and scores
# while the learner waits for experience.
LEARNER_PHASES = ["waiting_for_experience", "learning", "weight_sync"]


class BadRun(Exception):
    """The folder cannot be read as a run; the message says why."""


def read_jsonl(path):
    """The lines of a JSON-lines file; [] when it does not exist yet."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read().decode("utf-8", "replace")
    lines = data.split("\n")
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as error:
            unfinished = number == len(lines) and not data.endswith("\n")
            if unfinished:
                continue  # the job is writing this line now
            raise BadRun("%s:%d: not a JSON line (%s): %s" % (
                path, number, error.msg, line[:80]))
    return rows


def fmt(value, digits=3):
    if value is None:
        return ""
    if isinstance(value, float):
        return "%.*f" % (digits, value)
    return str(value)


def saved(fig, run_dir, name):
    path = os.path.join(run_dir, name)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return name


def rlhf_iterations(metrics):
    """PPO iterations in order, numbered 1.. across rounds."""
    rows = sorted(metrics, key=lambda m: (m.get("round", 0),
                                          m.get("iteration", 0)))
    return list(enumerate(rows, start=1))


def round_ends(iterations):
    """{round: the global number of its last iteration}."""
    ends = {}
    for n, row in iterations:
        ends[row.get("round", 0)] = n
    return ends


def plot_rewards(run_dir, rounds, iterations):
    ends = round_ends(iterations)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    xs = [n for n, _ in iterations]
    judged_name = "gold"
    gold = [row.get("gold_reward_mean") for _, row in iterations]
    if any(g is not None for g in gold):
        top.plot(xs, gold, color="tab:green", label="gold reward")
    else:
        # File runs judge once a round (rounds.jsonl), at the round's end.
        judged = [(ends.get(r["round"], 0), r["judge_reward_mean"])
                  for r in rounds if "judge_reward_mean" in r]
        if judged:
            judged_name = "judge"
            top.plot(*zip(*judged), "o-", color="tab:green",
                     label="judge reward (per round)")
    proxy = [row.get("proxy_reward_mean") for _, row in iterations]
    if any(p is not None for p in proxy):
        top.plot(xs, proxy, color="tab:orange", label="proxy reward")
    sft = next((r for r in rounds if r.get("round") == 0), None)
    if sft is not None:
        key = "gold_reward_mean" if "gold_reward_mean" in sft else \
            "judge_reward_mean"
        if key in sft:
            top.axhline(sft[key], color="gray", linestyle="--",
                        label="SFT policy (%s)" % judged_name)
    top.set_ylabel("reward (mean)")
    top.legend(fontsize="small")
    top.set_title("Rewards and KL per PPO iteration")
    kl = [row.get("kl_to_reference") for _, row in iterations]
    bottom.plot(xs, kl, color="tab:blue")
    bottom.set_ylabel("KL to the reference")
    bottom.set_xlabel("PPO iteration (all rounds)")
    for end in list(ends.values())[:-1]:
        for axis in (top, bottom):
            axis.axvline(end + 0.5, color="lightgray", linestyle=":")
    return saved(fig, run_dir, "report_rewards.png")


def plot_accuracy(run_dir, rounds):
    rows = [r for r in rounds if "rm_acc_original" in r]
    fig, axis = plt.subplots(figsize=(6, 3.5))
    xs = [r["round"] for r in rows]
    axis.plot(xs, [r["rm_acc_original"] for r in rows], "o-",
              label="original pairs (held out)")
    axis.plot(xs, [r.get("rm_acc_shifted") for r in rows], "s-",
              label="shifted pairs (current policy)")
    axis.axhline(0.5, color="gray", linestyle=":", label="chance")
    axis.set_xlabel("round")
    axis.set_ylabel("reward-model accuracy")
    axis.set_xticks(xs)
    axis.legend(fontsize="small")
    axis.set_title("Reward-model accuracy per round")
    return saved(fig, run_dir, "report_rm_accuracy.png")


def plot_win_tie_lose(run_dir, rounds):
    rows = [r for r in rounds if r.get("round", 0) >= 1 and "win" in r]
    fig, axis = plt.subplots(figsize=(6, 3.5))
    xs = [r["round"] for r in rows]
    bottom = [0.0] * len(rows)
    for key, color in (("win", "tab:green"), ("tie", "lightgray"),
                       ("lose", "tab:red")):
        values = [r[key] for r in rows]
        axis.bar(xs, values, bottom=bottom, color=color, label=key)
        bottom = [b + v for b, v in zip(bottom, values)]
    axis.set_xlabel("round")
    axis.set_ylabel("share of held-out prompts")
    axis.set_xticks(xs)
    axis.set_ylim(0, 1)
    axis.legend(fontsize="small")
    axis.set_title("Against the SFT policy")
    return saved(fig, run_dir, "report_win_tie_lose.png")


def plot_time_split(run_dir, iterations):
    """Learner 0's wall time per iteration, stacked (waiting, learning,
    weight sync); the rollout worker's generation and scoring happen inside
    the wait, so they are lines, not more bars."""
    fig, axis = plt.subplots(figsize=(8, 3.5))
    xs = [n for n, _ in iterations]
    seconds = [row.get("seconds", {}) for _, row in iterations]
    bottom = [0.0] * len(xs)
    for phase in LEARNER_PHASES:
        values = [s.get(phase, 0.0) for s in seconds]
        axis.bar(xs, values, bottom=bottom, width=0.9,
                 label=phase.replace("_", " "))
        bottom = [b + v for b, v in zip(bottom, values)]
    generation = [s.get("generation", 0.0) for s in seconds]
    axis.plot(xs, generation, "k-", label="rollout: generation")
    axis.plot(xs, [g + s.get("scoring", 0.0) for g, s in
                   zip(generation, seconds)], "k--",
              label="rollout: generation + scoring")
    axis.set_xlabel("PPO iteration (all rounds)")
    axis.set_ylabel("seconds")
    # Room above the bars for the legend.
    axis.set_ylim(0, 1.5 * max(bottom + [1e-9]))
    axis.legend(fontsize="small", loc="upper left", ncol=3)
    axis.set_title("Time per iteration (learner 0; the slowest rollout worker)")
    return saved(fig, run_dir, "report_time_split.png")


def plot_optimisation(run_dir, sft_steps, iterations):
    """SFT's loss and gradient norm per step (sft.jsonl); the policy's and
    the critic's learning rates and mean gradient norms per PPO iteration
    (metrics.jsonl). Norms are before clipping."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6))
    if sft_steps:
        xs = [s.get("step") for s in sft_steps]
        top.plot(xs, [s.get("loss") for s in sft_steps], color="tab:blue",
                 label="loss")
        norms = top.twinx()
        norms.plot(xs, [s.get("grad_norm") for s in sft_steps],
                   color="tab:orange", label="gradient norm")
        norms.set_ylabel("gradient norm")
        top.plot([], [], color="tab:orange", label="gradient norm")
        top.legend(fontsize="small", loc="upper right")
    top.set_xlabel("SFT step")
    top.set_ylabel("loss")
    top.set_title("SFT")
    if iterations:
        xs = [n for n, _ in iterations]
        rates = bottom.twinx()
        for role, colour in (("policy", "tab:blue"), ("value", "tab:green")):
            bottom.plot(xs, [row.get("%s_grad_norm" % role) for _, row in
                             iterations], color=colour,
                        label="%s gradient norm" % role)
            rates.plot(xs, [row.get("%s_learning_rate" % role) for _, row in
                            iterations], color=colour, linestyle="--")
            bottom.plot([], [], color=colour, linestyle="--",
                        label="%s learning rate (right)" % role)
        rates.set_ylabel("learning rate")
        bottom.legend(fontsize="small", loc="upper right")
    bottom.set_xlabel("PPO iteration (all rounds)")
    bottom.set_ylabel("mean gradient norm")
    bottom.set_title("PPO")
    fig.tight_layout()
    return saved(fig, run_dir, "report_optimisation.png")


def rlhf_report(run_dir, rounds, metrics, sft_steps=()):
    iterations = rlhf_iterations(metrics)
    judged = "gold" if any("gold_reward_mean" in r for r in rounds) else \
        "judge"
    lines = ["## RLHF: %d rounds logged (round 0 is the SFT policy), "
             "%d PPO iterations" % (max([r["round"] for r in rounds],
                                        default=-1) + 1, len(iterations)), ""]
    if rounds:
        lines += ["| round | %s | proxy | KL to reference | rm acc original "
                  "| rm acc shifted | win | tie | lose | seconds |" % judged,
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- "
                  "| --- |"]
        for r in rounds:
            seconds = r.get("seconds")
            if isinstance(seconds, dict):
                seconds = sum(seconds.values())
            lines.append("| %s |" % " | ".join(fmt(v) for v in (
                r.get("round"), r.get("%s_reward_mean" % judged),
                r.get("proxy_reward_mean"), r.get("kl_to_reference"),
                r.get("rm_acc_original"), r.get("rm_acc_shifted"),
                r.get("win"), r.get("tie"), r.get("lose"), seconds)))
        lines.append("")
    plots = []
    if iterations:
        plots.append(("Rewards and KL per PPO iteration",
                      plot_rewards(run_dir, rounds, iterations)))
    if any("rm_acc_original" in r for r in rounds):
        plots.append(("Reward-model accuracy per round",
                      plot_accuracy(run_dir, rounds)))
    if any(r.get("round", 0) >= 1 and "win" in r for r in rounds):
        plots.append(("Win / tie / lose against the SFT policy",
                      plot_win_tie_lose(run_dir, rounds)))
    if any("seconds" in row for _, row in iterations):
        plots.append(("Time split per iteration",
                      plot_time_split(run_dir, iterations)))
    if sft_steps or any("policy_grad_norm" in row for _, row in iterations):
        plots.append(("Optimisation: losses, gradient norms, learning rates",
                      plot_optimisation(run_dir, sft_steps, iterations)))
    if not plots:
        lines.append("No PPO iteration or evaluated round yet: the job is "
                     "still in SFT or its first reward model.")
    return lines, plots


def plot_reward_training(run_dir, steps, epochs):
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    xs = list(range(1, len(steps) + 1))
    window = max(1, len(steps) // 20)

    def smooth(values):
        out, total = [], 0.0
        for i, v in enumerate(values):
            total += v
            if i >= window:
                total -= values[i - window]
            out.append(total / min(i + 1, window))
        return out
    for axis, key, label in ((top, "loss", "loss"),
                             (bottom, "accuracy", "accuracy")):
        values = [s.get(key, float("nan")) for s in steps]
        axis.plot(xs, values, color="lightgray", label="per step")
        axis.plot(xs, smooth(values), color="tab:blue",
                  label="mean of %d steps" % window)
        axis.set_ylabel(label)
    # Epoch ends, with the epoch's train and held-out accuracy.
    end = 0
    for epoch in epochs:
        end += epoch.get("steps", 0)
        if "eval_accuracy" in epoch:
            bottom.plot(end, epoch["eval_accuracy"], "o", color="tab:red")
        if "train_accuracy" in epoch:
            bottom.plot(end, epoch["train_accuracy"], "s", color="tab:green")
    bottom.plot([], [], "o", color="tab:red", label="held-out, epoch end")
    bottom.plot([], [], "s", color="tab:green", label="train, epoch mean")
    bottom.set_xlabel("reward-model step")
    top.legend(fontsize="small")
    bottom.legend(fontsize="small")
    top.set_title("Reward-model training")
    return saved(fig, run_dir, "report_reward_training.png")


def reward_model_report(run_dir, epochs, steps):
    lines = ["## Reward model: %d epochs, %d steps logged" % (
        len(epochs), len(steps)), ""]
    # VANILLA logs the meta diagnostics as zeros: shown only when they moved.
    keys = [k for k in ("mode", "train_loss", "train_accuracy",
                        "eval_accuracy", "shifted_accuracy",
                        "gradient_cosine", "meta_step_ratio", "seconds")
            if any(e.get(k) not in (None, 0, 0.0) for e in epochs)]
    if epochs:
        lines += ["| epoch | %s |" % " | ".join(k.replace("_", " ")
                                                for k in keys),
                  "| --- |%s" % (" --- |" * len(keys))]
        for e in epochs:
            lines.append("| %s | %s |" % (e.get("epoch"), " | ".join(
                fmt(e.get(k)) for k in keys)))
        lines.append("")
    plots = []
    if steps:
        plots.append(("Loss and accuracy per step",
                      plot_reward_training(run_dir, steps, epochs)))
    else:
        lines.append("No reward-model step logged yet.")
    return lines, plots


def newest_change(run_dir, names):
    times = [os.path.getmtime(os.path.join(run_dir, n)) for n in names
             if os.path.exists(os.path.join(run_dir, n))]
    return datetime.datetime.fromtimestamp(max(times)).strftime(
        "%Y-%m-%d %H:%M:%S")


def write_report(run_dir):
    if not os.path.isdir(run_dir):
        raise BadRun("%s: not a folder" % run_dir)
    names = ["rounds.jsonl", "metrics.jsonl", "reward_model.jsonl",
             "reward_steps.jsonl", "sft.jsonl"]
    present = [n for n in names if os.path.exists(os.path.join(run_dir, n))]
    if not present:
        raise BadRun("%s: no run outputs here (none of %s); give the "
                     "output folder of an RLHF or reward-model job" % (
                         run_dir, ", ".join(names)))
    rounds = read_jsonl(os.path.join(run_dir, "rounds.jsonl"))
    metrics = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    epochs = read_jsonl(os.path.join(run_dir, "reward_model.jsonl"))
    steps = read_jsonl(os.path.join(run_dir, "reward_steps.jsonl"))
    sft_steps = read_jsonl(os.path.join(run_dir, "sft.jsonl"))
    lines = ["# Run report: %s" % os.path.abspath(run_dir), "",
             "Written by `deploy/report.sh %s` from %s; the newest log line "
             "is from %s. Run it again for a job that is still running." % (
                 run_dir, ", ".join(present),
                 newest_change(run_dir, present)), ""]
    if rounds or metrics or sft_steps:
        body, plots = rlhf_report(run_dir, rounds, metrics, sft_steps)
    else:
        body, plots = reward_model_report(run_dir, epochs, steps)
    lines += body
    for title, name in plots:
        lines += ["### %s" % title, "", "![%s](%s)" % (title, name), ""]
    with open(os.path.join(run_dir, "report.md"), "w") as f:
        f.write("\n".join(lines))
    return [name for _, name in plots]


def main(argv):
    if len(argv) != 1:
        print("usage: deploy/report.sh RUN_DIR", file=sys.stderr)
        return 2
    try:
        plots = write_report(argv[0])
    except BadRun as error:
        print("report: %s" % error, file=sys.stderr)
        return 2
    print("report: %s (%d plots)" % (os.path.join(argv[0], "report.md"),
                                     len(plots)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
