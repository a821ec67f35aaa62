#!/usr/bin/python3
"""Builds the reproduction report (docs/RESULTS.md) from the runs of
experiments/reproduce.sh.

    make_report.py OUT_DIR REPORT.md --command CMD --wall SECONDS --profile P

Reads each run's rounds.jsonl, metrics.jsonl, reward_model.jsonl and
eval_samples.jsonl (OUT_DIR/plan.txt lists the runs), writes the Markdown
report, its PNG plots (matplotlib) and summary.json (paired_stats.py) into
REPORT's folder under results/.
"""
import argparse
import collections
import datetime
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paired_stats import (bootstrap_ci, detectable_difference,  # noqa: E402
                          seeds_needed, smoothed)
from reproduce_plan import (AA_CONFIG, CHOSEN_ETA, FIXED_RM_CONFIG,  # noqa: E402
                            PROFILES)
from stats_cells import cell  # noqa: E402

BASELINE = "VANILLA"
METARM = f"METARM_eta{CHOSEN_ETA:g}"
TIE_BAND = 0.05  # eval.tie_band's default, which the jobs use
MAIN_CONFIGS = (BASELINE, METARM, AA_CONFIG)
# The regime the comparison needs (issue: a reproduction that can tell).
MIN_RM_ACCURACY = 0.75
MIN_GOLD_DROP = 0.05
SMOOTHING = 5  # PPO iterations in the fixed-RM curves' moving average

# The runs' settings beside the papers' (Part II, arXiv 2401.06080, appendix
# B), and why they differ where they do.
DEVIATIONS = [
    ("responses per meta prompt k", "5", "5", "the papers' value"),
    ("reward-model epochs a round", "1", "1", "the papers' value"),
    ("reward-model batch n and meta batch m", "16 and 16", "16 and 16",
     "the papers' values"),
    ("sampling temperature / top-p", "0.8 / 0.9", "0.8 / 0.9",
     "the papers' values (training rollouts, meta set, evaluation)"),
    ("reward-model lr α", "5e-6 (7B, Adam)", "1e-3 (AdamW)",
     "a 64-wide model from scratch does not move at 5e-6; 1e-3 from the "
     "reward-model sweeps (docs/reward_model.md)"),
    ("meta step η", "5e-6", f"{CHOSEN_ETA:g}",
     "plain-gradient ascent on a small model: 5e-6 leaves θ' = θ to "
     "rounding; chosen from the η sweep (docs/reward_model.md)"),
    ("policy lr", "5e-7", "2e-5 (2e-4 in the fixed-RM run)",
     "scaled for a 64-wide model trained from scratch"),
    ("reward clip", "0.8", "5",
     "not yet tried: the papers clip normalised rewards, these are raw; "
     "0.8 would cut 98% (sort) and 89% (reverse) of the proxy scores of "
     "the gold network's full run of 2026-12-01 (VANILLA seed 1, rounds 2-3, "
     "eval_samples.jsonl: -3.1 to 3.6 and -2.8 to 2.8), flattening the "
     "reward"),
    ("meta set in round 1", "SFT policy", "SFT policy",
     "the papers' setting: round 1's meta set is the pairs' distribution"),
    ("rounds", "4 (dialogue), 5 (summaries)", "3", "time on 2 cores"),
]


def cell_g(values):
    """Like cell, with three significant digits (for small diagnostics)."""
    if len(values) == 1:
        return "%.3g" % values[0]
    return "%.3g ± %.2g" % (statistics.mean(values), statistics.stdev(values))


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_runs(out_dir):
    """{task: {config: {seed: run}}} with each run's logs."""
    runs = collections.defaultdict(lambda: collections.defaultdict(dict))
    with open(os.path.join(out_dir, "plan.txt")) as f:
        for line in f:
            name = line.split()[0]
            task, rest = name.split("_", 1)
            config, seed = rest.rsplit("_seed", 1)
            d = os.path.join(out_dir, name)
            runs[task][config][int(seed)] = {
                "rounds": read_jsonl(d + "/rounds.jsonl"),
                "metrics": read_jsonl(d + "/metrics.jsonl"),
                "reward_model": read_jsonl(d + "/reward_model.jsonl"),
                "samples": read_jsonl(d + "/eval_samples.jsonl"),
            }
    return runs


def per_seed(config_runs, get):
    return [get(run) for _, run in sorted(config_runs.items())]


def config_label(config):
    return (config.replace("_eta", " η=").replace("_lambda", " λ=")
            .replace("METARM_EXACT", "METARM_EXACT"))


def round_row(run, r):
    return next(row for row in run["rounds"] if row["round"] == r)


def head_to_head(run_a, run_b, r):
    """Win/tie/lose of run_a's policy against run_b's on the same held-out
    prompts in round r, judged by the gold reward."""
    a = next(s for s in run_a["samples"] if s["round"] == r)
    b = next(s for s in run_b["samples"] if s["round"] == r)
    assert a["prompts"] == b["prompts"], "runs evaluated different prompts"
    win = tie = lose = 0
    for row_a, row_b in zip(a["judge_reward"], b["judge_reward"]):
        for ga, gb in zip(row_a, row_b):  # sample j against sample j
            if abs(ga - gb) <= TIE_BAND:
                tie += 1
            elif ga > gb:
                win += 1
            else:
                lose += 1
    n = win + tie + lose
    return win / n, tie / n, lose / n


def final_gold(run):
    return run["rounds"][-1]["gold_reward_mean"]


def paired(runs, config, metric, seeds):
    """Per seed: config's `metric` minus VANILLA's, seed by seed."""
    return [metric(runs[config][s], runs[BASELINE][s]) for s in seeds]


def gold_difference(run, baseline):
    return final_gold(run) - final_gold(baseline)


def win_minus_lose(run, baseline):
    win, _, lose = head_to_head(run, baseline, run["rounds"][-1]["round"])
    return win - lose


class Report:
    def __init__(self, out_dir, report_path, args):
        self.runs = load_runs(out_dir)
        self.path = report_path
        self.plot_dir = os.path.join(os.path.dirname(report_path) or ".",
                                     "results")
        os.makedirs(self.plot_dir, exist_ok=True)
        self.args = args
        self.profile = PROFILES[args.profile]
        self.lines = []
        self.findings = []

    def out(self, text=""):
        self.lines.append(text)

    def table(self, header, rows):
        self.out("| " + " | ".join(header) + " |")
        self.out("| " + " | ".join("---" for _ in header) + " |")
        for row in rows:
            self.out("| " + " | ".join(str(c) for c in row) + " |")
        self.out()

    def plot_path(self, name):
        return os.path.join(self.plot_dir, name)

    def publish(self, fig, name, heading, caption):
        """Saves `fig` as results/<name> and adds it under `heading`."""
        fig.tight_layout()
        fig.savefig(self.plot_path(name), dpi=90)
        plt.close(fig)
        self.out(f"### {heading}")
        self.out()
        self.out(f"![{caption}](results/{name})")
        self.out()

    # -- sections ---------------------------------------------------------

    def header(self):
        p = self.profile
        self.out("# Results: MetaRM against vanilla PPO on the gold-reward "
                 "testbed")
        self.out()
        self.out("Generated by `experiments/reproduce.sh`; do not edit by "
                 "hand. Every number and plot below comes from this run:")
        self.out()
        self.out("```sh")
        self.out(self.args.command)
        self.out("```")
        self.out()
        self.out(f"Profile `{self.args.profile}`, written "
                 f"{datetime.date.today().isoformat()}, "
                 f"{self.args.wall / 60:.1f} minutes of wall time on this "
                 f"machine (2 cores, two runs at a time, one thread each).")
        self.out()
        self.out(f"Each run: SFT ({p['sft_steps']} steps), then "
                 f"{p['rounds']} rounds of reward model + PPO "
                 f"({p['iterations']} PPO iterations a round) on one testbed "
                 f"task (docs/testbed.md), policy and reward model of d_model "
                 f"{p['d_model']}, {p['layers']} layers; "
                 f"{p['pairs']} original preference pairs from SFT samples "
                 f"labelled by the gold reward (the gold network of "
                 f"data/gold, task.gold_network, with the length, "
                 f"off-alphabet and repetition penalties; docs/testbed.md, "
                 f"\"A gold reward the reward model can learn\"); evaluation on "
                 f"{p['eval_prompts']} held-out prompts with 5 samples each, "
                 f"every sample judged, and accuracies on "
                 f"{p['eval_prompts']} held-out original pairs and "
                 f"{p['eval_prompts']} fresh pairs of the policy's samples, "
                 f"pairs of identical responses left out. Seeds "
                 f"{', '.join(map(str, p['seeds']))}. Paired design: every "
                 f"arm of a task and seed starts from the same SFT policy and "
                 f"pairs, and is judged on the same prompts against the same "
                 f"SFT samples. Cells are mean ± standard deviation over "
                 f"seeds. Win/tie/lose compare the gold reward of two "
                 f"policies' responses to the same prompt, sample j against "
                 f"sample j, tie when within {TIE_BAND}. The papers judge with "
                 f"GPT-4 and humans; here the gold reward is the judge.")
        self.out()
        self.out(f"METARM is the first-order step with η = {CHOSEN_ETA:g} "
                 f"(chosen from the reward-model-level sweeps of "
                 f"docs/reward_model.md); VANILLA is the Bradley-Terry loss "
                 f"alone (= METARM with η = 0, bit for bit).")
        self.out()

    def win_tables(self, task):
        runs = self.runs[task]
        rounds = range(1, self.profile["rounds"] + 1)
        self.out(f"### Win / tie / lose against the SFT policy ({task})")
        self.out()
        header = ["round"]
        for config in (BASELINE, METARM):
            header += [f"{config_label(config)} {k}" for k in
                       ("win", "tie", "lose")]
        rows = []
        for r in rounds:
            row = [r]
            for config in (BASELINE, METARM):
                for k in ("win", "tie", "lose"):
                    row.append(cell(per_seed(runs[config],
                                             lambda x: round_row(x, r)[k])))
            rows.append(row)
        self.table(header, rows)

        self.out(f"### MetaRM against vanilla, head to head ({task})")
        self.out()
        rows = []
        for r in rounds:
            results = [head_to_head(runs[METARM][seed], runs[BASELINE][seed], r)
                       for seed in sorted(runs[METARM])]
            rows.append([r] + [cell([x[i] for x in results]) for i in range(3)])
        self.table(["round", "MetaRM wins", "tie", "MetaRM loses"], rows)
        last = rows[-1]
        self.findings.append(
            f"{task}, round {self.profile['rounds']}: MetaRM's policy against "
            f"vanilla's, judged by the gold reward: win {last[1]}, tie "
            f"{last[2]}, lose {last[3]}.")

    def round_table(self, task):
        runs = self.runs[task]
        self.out(f"### Gold reward, reward-model accuracy and reward gaps per "
                 f"round ({task})")
        self.out()
        self.out("`rm_acc_original`: held-out pairs from the original (SFT) "
                 "distribution; `rm_acc_shifted`: fresh pairs of the current "
                 "policy's samples, labelled by the gold reward; reward gap: "
                 "mean |r_i − r_j| over the pairs of the policy's 5 responses "
                 "to a held-out prompt, divided by the reward range (the "
                 "papers' diagnostic). Round 0 is the SFT policy.")
        self.out()
        rows = []
        sft = per_seed(runs[BASELINE], lambda x: round_row(x, 0)
                       ["gold_reward_mean"])
        rows.append([0, "SFT", cell(sft), "", "", "", "", ""])
        for r in range(1, self.profile["rounds"] + 1):
            for config in (BASELINE, METARM):
                get = lambda k: cell(per_seed(
                    runs[config], lambda x: round_row(x, r)[k]))
                rows.append([r, config_label(config), get("gold_reward_mean"),
                             get("proxy_reward_mean"), get("rm_acc_original"),
                             get("rm_acc_shifted"), get("reward_gap_mean"),
                             get("kl_to_reference")])
        self.table(["round", "method", "gold", "proxy", "rm_acc_original",
                    "rm_acc_shifted", "reward gap", "KL to SFT"], rows)

    def plots(self, task):
        runs = self.runs[task]
        rounds = self.profile["rounds"]
        colors = {BASELINE: "tab:blue", METARM: "tab:red"}

        # Gold and proxy reward of the PPO batches against the iteration.
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        for config in (BASELINE, METARM):
            seeds = list(runs[config].values())
            n = min(len(s["metrics"]) for s in seeds)
            x = list(range(1, n + 1))
            for ax, key in zip(axes, ("gold_reward_mean", "proxy_reward_mean")):
                ys = [statistics.mean(s["metrics"][i][key] for s in seeds)
                      for i in range(n)]
                ax.plot(x, ys, color=colors[config], label=config_label(config))
        per_round = self.profile["iterations"]
        for ax, title in zip(axes, ("gold reward (the judge)",
                                    "proxy reward (the round's reward model)")):
            for r in range(1, rounds):
                ax.axvline(r * per_round + 0.5, color="gray", lw=0.5)
            ax.set_title(title)
            ax.set_xlabel("PPO iteration (rounds separated by lines)")
            ax.legend()
        fig.suptitle(f"{task}: batch rewards during PPO, mean over seeds")
        self.publish(fig, f"{task}_reward_vs_iteration.png",
                     f"Gold and proxy reward against PPO iteration ({task})",
                     f"{task}: gold and proxy reward per PPO iteration")

        # Reward-model accuracy per round.
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        xs = list(range(1, rounds + 1))
        for config in (BASELINE, METARM):
            for key, style in (("rm_acc_original", "-"),
                               ("rm_acc_shifted", "--")):
                ys = [statistics.mean(per_seed(
                    runs[config], lambda x: round_row(x, r)[key])) for r in xs]
                ax.plot(xs, ys, style, marker="o", color=colors[config],
                        label=f"{config_label(config)} "
                              f"{key.replace('rm_acc_', '')}")
        ax.set_xticks(xs)
        ax.set_xlabel("round")
        ax.set_ylabel("pairwise accuracy")
        ax.set_title(f"{task}: reward-model accuracy, mean over seeds")
        ax.legend(fontsize=7)
        self.publish(fig, f"{task}_rm_accuracy.png",
                     f"Reward-model accuracy per round ({task})",
                     f"{task}: reward-model accuracy per round")

        # Reward-gap histograms on policy samples (the papers' Figure 16).
        fig, axes = plt.subplots(1, rounds, figsize=(3.4 * rounds, 3.2),
                                 sharey=True)
        for r, ax in zip(range(1, rounds + 1), axes):
            for offset, config in ((-0.02, BASELINE), (0.02, METARM)):
                counts = [sum(c) for c in zip(*per_seed(
                    runs[config],
                    lambda x: round_row(x, r)["reward_gaps"]["histogram"]))]
                total = sum(counts) or 1
                bins = len(counts)
                centers = [(i + 0.5) / bins + offset for i in range(bins)]
                ax.bar(centers, [c / total for c in counts], width=0.04,
                       color=colors[config], label=config_label(config))
            ax.set_title(f"round {r}")
            ax.set_xlabel("normalised reward gap")
        axes[0].set_ylabel("share of response pairs")
        axes[0].legend(fontsize=7)
        fig.suptitle(f"{task}: reward gaps among the policy's responses, "
                     f"all seeds")
        self.publish(fig, f"{task}_reward_gaps.png",
                     f"Reward-gap histograms on policy samples ({task})",
                     f"{task}: reward-gap histograms")

    def variant_table(self, task):
        sweep_seeds = self.profile["sweep_seeds"]
        if not sweep_seeds:
            return
        runs = {config: {s: r for s, r in seeds.items() if s in sweep_seeds}
                for config, seeds in self.runs[task].items()
                if config not in (AA_CONFIG, FIXED_RM_CONFIG)}
        last = self.profile["rounds"]
        self.out(f"### The η sweep and the variants ({task})")
        self.out()
        self.out(f"Final round ({last}) of every configuration, on seeds "
                 f"{', '.join(map(str, sweep_seeds))}; the "
                 f"diagnostics are the reward-model epochs' means over all "
                 f"rounds (reward_model.jsonl): cos(∇L, ∇J), the change of J "
                 f"on the meta batch over one step (after − before), and the "
                 f"meta step η‖∇J‖/‖θ‖.")
        self.out()
        rows = []

        def order(config):
            return (config != BASELINE, config.split("_eta")[0]
                    .split("_lambda")[0], config)

        for config in sorted(runs, key=order):
            final = lambda k: cell(per_seed(runs[config],
                                            lambda x: round_row(x, last)[k]))
            uses_j = config != BASELINE
            uses_step = config.startswith("METARM")
            diag = lambda k, used: cell_g(per_seed(
                runs[config], lambda x: statistics.mean(
                    e[k] for e in x["reward_model"]))) if used else "n/a"
            step_j = cell_g(per_seed(runs[config], lambda x: statistics.mean(
                e["meta_objective_after"] - e["meta_objective"]
                for e in x["reward_model"]))) if uses_j else "n/a"
            label = config_label(config)
            if config == BASELINE:
                label += " (= METARM η=0)"
            rows.append([label, len(runs[config]),
                         final("gold_reward_mean"), final("win"),
                         final("lose"), final("rm_acc_original"),
                         final("rm_acc_shifted"), final("reward_gap_mean"),
                         diag("gradient_cosine", uses_j), step_j,
                         diag("meta_step_ratio", uses_step)])
        self.table(["configuration", "seeds", "gold", "win vs SFT",
                    "lose vs SFT", "rm_acc_original", "rm_acc_shifted",
                    "reward gap", "cos(∇L,∇J)", "ΔJ per step",
                    "meta step ratio"], rows)
        if "METARM_eta0" in runs:
            diffs = []
            for seed, run in runs["METARM_eta0"].items():
                base = runs[BASELINE][seed]
                for a, b in zip(run["rounds"], base["rounds"]):
                    for k in ("gold_reward_mean", "rm_acc_original"):
                        if k in a:
                            diffs.append(abs(a[k] - b[k]))
            self.out(f"METARM with η = 0 against VANILLA: largest difference "
                     f"over the rounds' gold reward and accuracy "
                     f"{max(diffs):.3g} (identical runs give 0).")
            self.out()

    def findings_section(self):
        self.out("## What the numbers say")
        self.out()
        for task in sorted(self.runs):
            runs = self.runs[task]
            last = self.profile["rounds"]
            gold = {c: per_seed(runs[c], lambda x: round_row(
                x, last)["gold_reward_mean"]) for c in (BASELINE, METARM)}
            sft = statistics.mean(per_seed(
                runs[BASELINE], lambda x: round_row(x, 0)["gold_reward_mean"]))
            self.findings.append(
                f"{task}: SFT gold {sft:.3f}; final-round gold VANILLA "
                f"{cell(gold[BASELINE])}, {config_label(METARM)} "
                f"{cell(gold[METARM])}.")
        for finding in self.findings:
            self.out(f"- {finding}")
        self.out()
        reading = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "results_reading.md")
        if self.args.profile == "full" and os.path.exists(reading):
            with open(reading) as f:
                self.out(f.read().rstrip())
            self.out()

    def settings_section(self):
        self.out("## Settings against the papers'")
        self.out()
        self.table(["setting", "papers", "here", "why"],
                   [list(d) for d in DEVIATIONS])

    def paired_section(self, task):
        """The endpoint: per-seed paired differences from VANILLA at the
        final round, with bootstrap intervals over seeds; the A/A arm's
        differences are the noise floor."""
        runs = self.runs[task]
        seeds = sorted(runs[BASELINE])
        last = self.profile["rounds"]
        self.out(f"### Paired comparison over seeds ({task})")
        self.out()
        self.out(f"Per seed, round {last}: the arm's final gold reward minus "
                 f"VANILLA's, and head to head against VANILLA's policy "
                 f"(every sample of every evaluation prompt against the same-"
                 f"numbered sample) the share won minus the share lost. "
                 f"A/A is VANILLA again with another arm_seed: the same SFT "
                 f"policy, pairs and judging, every later draw different, so "
                 f"its differences are what noise alone gives. Intervals: "
                 f"95% percentile bootstrap of the mean over the "
                 f"{len(seeds)} seeds (10000 resamples)."
                 + (f" With {len(seeds)} seeds a bootstrap interval is at "
                    f"most the range of the per-seed values and understates "
                    f"the uncertainty: read it as that range."
                    if len(seeds) < 5 else ""))
        self.out()
        rows = []
        stats = {}
        for config, name in ((METARM, "metarm"), (AA_CONFIG, "aa")):
            gold = paired(runs, config, gold_difference, seeds)
            winlose = paired(runs, config, win_minus_lose, seeds)
            stats[name] = {"gold": gold, "winlose": winlose}
            label = "A/A (VANILLA, arm_seed 1)" if config == AA_CONFIG else \
                config_label(config)
            for seed, g, w in zip(seeds, gold, winlose):
                rows.append([label, seed, f"{g:+.3f}", f"{w:+.3f}"])
            rows.append([f"**{label}: mean [95% CI]**", len(seeds),
                         "%+.3f [%+.3f, %+.3f]" % (statistics.mean(gold),
                                                   *bootstrap_ci(gold)),
                         "%+.3f [%+.3f, %+.3f]" % (statistics.mean(winlose),
                                                   *bootstrap_ci(winlose))])
        self.table(["arm", "seed", "gold − VANILLA's", "win − lose vs "
                    "VANILLA"], rows)
        summary = self.summary[task]
        self.power_statement(summary, stats["aa"], len(seeds))
        self.both_baselines_statement(stats, summary)
        summary["seeds"] = seeds
        summary["bon_metarm_minus_vanilla_ci"] = None  # unless measured
        summary["aa_diff_ci"] = bootstrap_ci(stats["aa"]["gold"])
        summary["aa_diff_mean"] = statistics.mean(stats["aa"]["gold"])
        summary["aa_winlose_ci"] = bootstrap_ci(stats["aa"]["winlose"])
        summary["metarm_minus_vanilla_gold_ci"] = bootstrap_ci(
            stats["metarm"]["gold"])
        summary["metarm_minus_vanilla_gold_mean"] = statistics.mean(
            stats["metarm"]["gold"])
        summary["metarm_minus_vanilla_winlose_ci"] = bootstrap_ci(
            stats["metarm"]["winlose"])
        summary["metarm_minus_vanilla_winlose_mean"] = statistics.mean(
            stats["metarm"]["winlose"])
        if "bon_gold_mean" in round_row(runs[BASELINE][seeds[0]], 1):
            self.best_of_n_table(task, seeds)
        ci = summary["metarm_minus_vanilla_gold_ci"]
        verdict = ("MetaRM ahead" if ci[0] > 0 else "vanilla ahead"
                   if ci[1] < 0 else "no difference established")
        self.findings.append(
            f"{task}: MetaRM's final gold minus vanilla's, paired by seed: "
            f"{summary['metarm_minus_vanilla_gold_mean']:+.3f} "
            f"[{ci[0]:+.3f}, {ci[1]:+.3f}] ({verdict}); the A/A arm's: "
            f"[{summary['aa_diff_ci'][0]:+.3f}, "
            f"{summary['aa_diff_ci'][1]:+.3f}].")

    def power_statement(self, summary, aa, seeds):
        """What difference the seeds can detect at the A/A arm's noise: the
        standard deviation of its per-seed differences, which is what the
        METARM − VANILLA differences would have if MetaRM changed nothing."""
        if seeds < 2:
            return
        parts = []
        for key, what in (("gold", "final gold"), ("winlose", "win − lose")):
            noise = statistics.stdev(aa[key])
            detectable = detectable_difference(noise, seeds)
            summary[f"aa_{key}_sd"] = noise
            summary[f"detectable_{key}_difference"] = detectable
            # Two seeds at least: one gives no spread to test against.
            needed = max(2, seeds_needed(noise, 0.05)) if noise > 0 else 2
            summary[f"seeds_for_{key}_0.05"] = needed
            parts.append(
                f"{what}: A/A standard deviation {noise:.3f}, so {seeds} "
                f"seeds detect a mean difference of {detectable:.3f}, and "
                f"one of 0.05 needs {needed} seeds")
        self.out("Power (two-sided 5% test, 80% power, the A/A arm's "
                 "per-seed spread as the noise of a paired difference): "
                 + "; ".join(parts) + ". These use the normal "
                 "approximation with the spread taken as known; from "
                 f"{seeds} seeds the spread is itself uncertain, so read "
                 "them as rough.")
        self.out()

    def both_baselines_statement(self, stats, summary):
        """A secondary estimate: METARM's final gold minus the mean of the
        seed's two VANILLA arms (VANILLA and A/A), which halves the
        baseline's own draw-to-draw variance. Added after the full run of
        2026-12-01 had been read, so it is exploratory, not the endpoint."""
        # M - (V + A)/2 = (M - V) - (A - V)/2, from the paired differences.
        both = [m - a / 2 for m, a in zip(stats["metarm"]["gold"],
                                          stats["aa"]["gold"])]
        ci = bootstrap_ci(both)
        summary["metarm_minus_both_vanilla_gold_mean"] = statistics.mean(both)
        summary["metarm_minus_both_vanilla_gold_ci"] = ci
        self.out(f"Secondary, exploratory (added after the full run of "
                 f"2026-12-01 had been read): {config_label(METARM)}'s final "
                 f"gold minus the mean of the seed's two VANILLA arms "
                 f"(VANILLA and A/A), which halves the baseline's own noise: "
                 f"{statistics.mean(both):+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}] "
                 f"(per seed: {', '.join('%+.3f' % x for x in both)}).")
        self.out()

    def best_of_n_table(self, task, seeds):
        """The best-of-n pre-test: paired differences of the picks' gold
        reward per round."""
        runs = self.runs[task]
        last = self.profile["rounds"]
        summary = self.summary[task]
        bon = {config: [[round_row(runs[config][seed], r)["bon_gold_mean"]
                         - round_row(runs[BASELINE][seed], r)["bon_gold_mean"]
                         for seed in seeds] for r in range(1, last + 1)]
               for config in (METARM, AA_CONFIG)}
        summary["bon_metarm_minus_vanilla_ci"] = bootstrap_ci(bon[METARM][-1])
        summary["bon_metarm_minus_vanilla_mean"] = statistics.mean(
            bon[METARM][-1])
        summary["bon_aa_ci"] = bootstrap_ci(bon[AA_CONFIG][-1])
        n = round_row(runs[BASELINE][seeds[0]], 1)["bon_n"]
        self.out(f"### Best-of-{n} pre-test ({task})")
        self.out()
        self.out(f"In every round each arm's reward "
                 f"model picks the best of the same {n} SFT samples per "
                 f"evaluation prompt; the picks' gold reward minus VANILLA's "
                 f"picks', per round, mean [95% CI] over seeds. No PPO is "
                 f"involved, so it shows how well each reward model ranks "
                 f"samples, without PPO's noise.")
        self.out()
        self.table(["round", "METARM − VANILLA", "A/A − VANILLA"],
                   [[r] + ["%+.4f [%+.4f, %+.4f]" % (
                       statistics.mean(bon[c][r - 1]),
                       *bootstrap_ci(bon[c][r - 1]))
                       for c in (METARM, AA_CONFIG)]
                    for r in range(1, last + 1)])

    def regime_section(self, task):
        """The papers' regime, checked: a reward model the labels let learn,
        over-optimisation against it when held fixed, and its accuracy
        falling on the policy's samples over rounds."""
        runs = self.runs[task]
        summary = self.summary[task]
        first = lambda k: statistics.mean(per_seed(
            runs[BASELINE], lambda x: round_row(x, 1)[k]))
        summary["rm_acc_ceiling"] = first("gold_acc_original")
        summary["rm_acc_original_sft"] = first("rm_acc_original")
        fixed = runs[FIXED_RM_CONFIG]
        curves = {}
        for seed, run in sorted(fixed.items()):
            curves[seed] = {k: [row[k] for row in run["metrics"]]
                            for k in ("gold_reward_mean", "proxy_reward_mean",
                                      "kl_to_reference")}
        peaks, finals, proxy_rises = [], [], []
        for c in curves.values():
            gold = smoothed(c["gold_reward_mean"], SMOOTHING)
            proxy = smoothed(c["proxy_reward_mean"], SMOOTHING)
            peak = max(range(len(gold)), key=gold.__getitem__)
            peaks.append(gold[peak])
            finals.append(gold[-1])
            proxy_rises.append(proxy[-1] - proxy[peak])
        summary["fixed_rm_gold_peak"] = statistics.mean(peaks)
        summary["fixed_rm_gold_final"] = statistics.mean(finals)
        summary["fixed_rm_proxy_rise_after_gold_peak"] = statistics.mean(
            proxy_rises)
        rounds = range(1, self.profile["rounds"] + 1)
        shifted = [statistics.mean(per_seed(
            runs[BASELINE], lambda x: round_row(x, r)["rm_acc_shifted"]))
            for r in rounds]
        original = [statistics.mean(per_seed(
            runs[BASELINE], lambda x: round_row(x, r)["rm_acc_original"]))
            for r in rounds]
        drop = summary["fixed_rm_gold_peak"] - summary["fixed_rm_gold_final"]
        checks = [
            (f"VANILLA's accuracy on held-out SFT pairs (round 1) at least "
             f"{MIN_RM_ACCURACY}", f"{summary['rm_acc_original_sft']:.3f} "
             f"(the gold reward's own on the same pairs, the ceiling: "
             f"{summary['rm_acc_ceiling']:.3f})",
             summary["rm_acc_original_sft"] >= MIN_RM_ACCURACY),
            (f"against a fixed reward model, gold falls at least "
             f"{MIN_GOLD_DROP} from its peak while the proxy keeps rising",
             f"peak {summary['fixed_rm_gold_peak']:.3f}, final "
             f"{summary['fixed_rm_gold_final']:.3f}; proxy after the gold "
             f"peak {summary['fixed_rm_proxy_rise_after_gold_peak']:+.3f}",
             drop >= MIN_GOLD_DROP and
             summary["fixed_rm_proxy_rise_after_gold_peak"] > 0),
            ("VANILLA's accuracy on the policy's samples below that on the "
             "original pairs, in the last round",
             f"{shifted[-1]:.3f} against {original[-1]:.3f} (rounds 1-"
             f"{len(shifted)} shifted: "
             f"{', '.join('%.3f' % x for x in shifted)})",
             shifted[-1] < original[-1]),
        ]
        summary["regime_holds"] = all(ok for _, _, ok in checks)
        self.out(f"### The regime the comparison needs ({task})")
        self.out()
        self.out(f"Means over seeds. The fixed-reward-model run: one round "
                 f"of {self.profile['fixed_rm_iterations']} PPO iterations at "
                 f"policy lr {self.profile['fixed_rm_learning_rate']:g}, "
                 f"without the KL penalty, "
                 f"against VANILLA's round-1 reward model (seeds "
                 f"{', '.join(map(str, sorted(fixed)))}); gold and proxy are "
                 f"the PPO batches' means, smoothed over {SMOOTHING} "
                 f"iterations.")
        self.out()
        self.table(["check", "measured", "holds"],
                   [[c, m, "yes" if ok else "**no**"] for c, m, ok in checks])
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        for seed, c in curves.items():
            for ax, key in zip(axes, ("gold_reward_mean",
                                      "proxy_reward_mean")):
                ax.plot(c["kl_to_reference"], smoothed(c[key], SMOOTHING),
                        marker=".", label=f"seed {seed}")
        for ax, title in zip(axes, ("gold reward", "proxy reward (fixed)")):
            ax.set_title(title)
            ax.set_xlabel("KL to SFT (PPO batch)")
            ax.legend(fontsize=7)
        fig.suptitle(f"{task}: PPO against a fixed VANILLA reward model")
        self.publish(fig, f"{task}_fixed_rm_vs_kl.png",
                     f"Gold and proxy against KL, fixed reward model ({task})",
                     f"{task}: gold and proxy reward against KL")

    def write(self):
        self.summary = {task: {} for task in self.runs}
        self.header()
        self.settings_section()
        for task in sorted(self.runs):
            self.out(f"## Task: {task}")
            self.out()
            self.regime_section(task)
            self.paired_section(task)
            self.win_tables(task)
            self.round_table(task)
            self.plots(task)
            self.variant_table(task)
        self.findings_section()
        with open(self.path, "w") as f:
            f.write("\n".join(self.lines))
        with open(os.path.join(self.plot_dir, "summary.json"), "w") as f:
            json.dump(self.summary, f, indent=1, sort_keys=True)
            f.write("\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("report")
    parser.add_argument("--command", required=True)
    parser.add_argument("--wall", type=float, required=True)
    parser.add_argument("--profile", required=True)
    args = parser.parse_args()
    Report(args.out_dir, args.report, args).write()


if __name__ == "__main__":
    main()
