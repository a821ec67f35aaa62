#!/usr/bin/python3
"""One report for a sweep (experiments/scaling/sweep.py): OUTPUT_DIR/report.md,
report.json and three PNGs, from the points' metrics.jsonl and their status.

    sweep_report.py OUTPUT_DIR

Per point: the PPO iteration's time split as learner 0 logs it (medians over
the iterations, each round's first left out: it fills the pipeline), samples
per second, efficiency against the smallest layout, and the alpha-beta
model's prediction (bench/scaling_model.py, from OUTPUT_DIR/calibration.json)
with its error. Points that failed are listed with their exit code, log and
the log's last lines; points that did not run are listed too.
"""
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(REPO, "bench"))
sys.path.insert(0, os.path.join(REPO, "deploy"))
from report import BadRun, read_jsonl  # noqa: E402
from scaling_model import predict_point  # noqa: E402

PHASES = ["waiting_for_experience", "learning", "weight_sync"]
INSIDE_WAITING = ["generation", "scoring"]
LOG_TAIL_LINES = 8


def read_status(point):
    path = os.path.join(point["folder"], "status.json")
    if not os.path.exists(path):
        return {"state": "not run"}
    with open(path) as f:
        return json.load(f)


def log_tail(path, lines=LOG_TAIL_LINES):
    """The log's last lines, without the launchers' banners (mpirun's and
    srun's boxed notices, between lines of dashes), which repeat what the
    rank said above them."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        text = f.read()[-50000:].decode("utf-8", "replace")
    kept, in_banner = [], False
    for line in text.splitlines():
        if line.startswith("-----"):
            in_banner = not in_banner
            continue
        if not in_banner and line.strip() and not line.startswith("srun: "):
            kept.append(line)
    return kept[-lines:]


def measured_iteration(run_dir):
    """Medians of learner 0's phases over the PPO iterations, each round's
    first left out (it fills the pipeline), or None without iterations."""
    rows = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    firsts = {}
    for row in rows:
        firsts.setdefault(row["round"], row["iteration"])
    steady = [r for r in rows if r["iteration"] != firsts[r["round"]]] or rows
    if not steady:
        return None
    out = {}
    for phase in PHASES + INSIDE_WAITING:
        out[phase] = statistics.median(r["seconds"][phase] for r in steady)
    out["iteration"] = statistics.median(
        sum(r["seconds"][p] for p in PHASES) for r in steady)
    out["iterations"] = len(steady)
    return out


def point_row(point, calibration, cores):
    facts = point["facts"]
    status = read_status(point)
    row = {"name": point["name"], "labels": point["labels"],
           "world_size": facts["world_size"],
           "layout": "%d+%d%s" % (facts["learner_ranks"], facts["rollout_ranks"],
                                  " colocated" if facts["placement"] == "COLOCATED" else ""),
           "state": status.get("state", "not run"),
           "exit_code": status.get("exit_code"),
           "seconds": status.get("seconds"),
           "log": os.path.join(point["folder"], "log.txt")}
    if row["state"] == "completed":
        measured = measured_iteration(point["run_dir"])
        if measured:
            row["measured"] = measured
            row["samples_per_second"] = facts["rollout_batch_size"] / measured["iteration"]
    if calibration:
        try:
            row["predicted"] = predict_point(facts, calibration, cores)
        except KeyError as error:
            row["prediction_missing"] = str(error)
    if "predicted" in row:
        row["predicted_samples_per_second"] = (facts["rollout_batch_size"] /
                                               row["predicted"]["iteration"])
    if "measured" in row and "predicted" in row:
        row["prediction_error"] = (row["predicted"]["iteration"] /
                                   row["measured"]["iteration"] - 1)
    if row["state"] != "completed":
        row["log_tail"] = log_tail(row["log"])
    return row


def add_efficiency(rows):
    """Samples per second per rank against the completed point with the
    fewest ranks (the first such point)."""
    done = [r for r in rows if "samples_per_second" in r]
    if not done:
        return None
    base = min(done, key=lambda r: r["world_size"])
    per_rank = base["samples_per_second"] / base["world_size"]
    for r in done:
        r["efficiency"] = r["samples_per_second"] / r["world_size"] / per_rank
    return base["name"]


def fmt(value, pattern="%.3f"):
    return "" if value is None else pattern % value


def markdown(plan, rows, base, calibration, cores):
    axes = plan["axes"]
    lines = [f"# Sweep '{plan['name']}'", "",
             f"Grid: `{plan['grid']}`; {len(rows)} points; this report: "
             f"`experiments/scaling/sweep_report.py {plan['output_dir']}`.", ""]
    if calibration:
        lines += [f"Model: bench/scaling_model.py `predict_point`, calibrated on "
                  f"{calibration.get('host', 'this machine')} "
                  f"({cores} cores; `{plan['output_dir']}/calibration.json`).", ""]
    else:
        lines += ["No model column: the sweep ran without a calibration "
                  "(`--no_calibration`, or no benchmarks in `--bench_dir`).", ""]
    lines += ["Seconds per PPO iteration (learner 0, medians over the iterations "
              "after each round's first); generation and scoring are the busiest "
              f"rollout worker's, inside the wait. Efficiency: samples/s per rank "
              f"against `{base}`.", ""]
    head = axes + ["ranks", "state", "iteration s", "generation", "scoring",
                   "waiting", "learning", "weight sync", "samples/s",
                   "efficiency", "model s", "model error"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for r in rows:
        m = r.get("measured", {})
        p = r.get("predicted", {})
        state = r["state"] if r["state"] != "failed" else f"failed ({r['exit_code']})"
        cells = [r["labels"].get(a, "") for a in axes] + [
            r["layout"], state, fmt(m.get("iteration")), fmt(m.get("generation")),
            fmt(m.get("scoring")), fmt(m.get("waiting_for_experience")),
            fmt(m.get("learning")), fmt(m.get("weight_sync"), "%.4f"),
            fmt(r.get("samples_per_second"), "%.1f"),
            fmt(r.get("efficiency"), "%.2f"), fmt(p.get("iteration")),
            fmt(r["prediction_error"] * 100 if "prediction_error" in r else None,
                "%+.0f %%")]
        lines.append("| " + " | ".join(cells) + " |")
    problems = [r for r in rows if r["state"] != "completed"]
    if problems:
        lines += ["", "## Points that did not complete", ""]
        for r in problems:
            code = "" if r["exit_code"] is None else f", exit code {r['exit_code']}"
            lines += [f"- **{r['name']}**: {r['state']}{code}; log `{r['log']}`"]
            if r.get("log_tail"):
                lines += ["", "  ```"] + ["  " + l for l in r["log_tail"]] + ["  ```"]
    lines += ["", "![iteration split](phases.png)", "",
              "![samples per second](throughput.png)", "",
              "![efficiency](efficiency.png)", ""]
    return "\n".join(lines)


def plot_phases(rows, path):
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.5))
    names = [r["name"] for r in rows]
    left = [0.0] * len(rows)
    for phase, color in zip(PHASES, ["#9ecae1", "#3182bd", "#fd8d3c"]):
        widths = [r.get("measured", {}).get(phase, 0.0) for r in rows]
        ax.barh(names, widths, left=left, color=color, label=phase.replace("_", " "))
        left = [a + b for a, b in zip(left, widths)]
    predicted = [(i, r["predicted"]["iteration"]) for i, r in enumerate(rows)
                 if "predicted" in r]
    if predicted:
        ax.scatter([p for _, p in predicted], [i for i, _ in predicted],
                   color="black", marker="x", zorder=3, label="model")
    ax.set_xlabel("seconds per PPO iteration (learner 0)")
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_against_ranks(rows, key, ylabel, path, predicted_key=None):
    """`key` of each point against its ranks, and `predicted_key` beside it
    where the model has it."""
    fig, ax = plt.subplots(figsize=(6, 4))
    done = [r for r in rows if key in r]
    ax.scatter([r["world_size"] for r in done], [r[key] for r in done],
               color="#3182bd", label="measured")
    for r in done:
        ax.annotate(r["name"], (r["world_size"], r[key]), fontsize=6)
    if predicted_key:
        model = [r for r in rows if predicted_key in r]
        ax.scatter([r["world_size"] for r in model],
                   [r[predicted_key] for r in model], color="black", marker="x",
                   label="model")
    ax.set_xlabel("ranks")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(output_dir):
    """Writes the report; returns the rows (dicts, one per point)."""
    with open(os.path.join(output_dir, "sweep_plan.json")) as f:
        plan = json.load(f)
    calibration = None
    cal_path = os.path.join(output_dir, "calibration.json")
    if os.path.exists(cal_path):
        with open(cal_path) as f:
            calibration = json.load(f)
    cores = calibration["machine_cores"] if calibration else os.cpu_count()
    rows = [point_row(p, calibration, cores) for p in plan["points"]]
    base = add_efficiency(rows)
    with open(os.path.join(output_dir, "report.md"), "w") as f:
        f.write(markdown(plan, rows, base, calibration, cores))
    with open(os.path.join(output_dir, "report.json"), "w") as f:
        json.dump({"name": plan["name"], "efficiency_baseline": base,
                   "points": rows}, f, indent=1)
    plot_phases(rows, os.path.join(output_dir, "phases.png"))
    plot_against_ranks(
        rows, "samples_per_second", "samples per second",
        os.path.join(output_dir, "throughput.png"), "predicted_samples_per_second")
    plot_against_ranks(rows, "efficiency", "efficiency (samples/s per rank)",
                       os.path.join(output_dir, "efficiency.png"))
    return rows


def main():
    if len(sys.argv) != 2:
        print("usage: sweep_report.py OUTPUT_DIR", file=sys.stderr)
        return 2
    try:
        write_report(sys.argv[1])
    except (BadRun, OSError, KeyError, json.JSONDecodeError) as error:
        print(f"sweep_report.py: {error}", file=sys.stderr)
        return 2
    print(f"sweep_report.py: {os.path.join(sys.argv[1], 'report.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
