#!/usr/bin/python3
"""A scaling sweep: every point of a grid (proto/sweep.proto) run as a job of
its own, locally one after another or as one Slurm job array, then one
report (experiments/scaling/sweep_report.py). docs/scaling.md is the guide.

    sweep.py --local GRID --output_dir DIR
    sweep.py --slurm GRID --output_dir DIR [--tasks_per_node N]
             [--cpus_per_task C] [--wait] [--sbatch=--time=02:00:00 ...]
    sweep.py --report DIR

The grid is validated (every point as the trainer would validate its job)
before anything runs: a bad grid exits 2 with every problem listed. Running
the same command again skips the points that completed and runs the others
again; a point that was stopped (pre-empted: exit 3) or cut off continues
from its newest checkpoint. Each point's folder DIR/points/NAME holds its
job.pbtxt, log.txt (every attempt, appended), status.json and run/.

Exit 0 when every point completed (or, with --slurm and no --wait, when the
array was submitted), 1 when a point did not, 2 for bad input.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "bench"))
sys.path.insert(0, HERE)
import calibrate  # noqa: E402
from scaling_model import calibration_key_of  # noqa: E402
import sweep_report  # noqa: E402

MPIRUN_LOCAL = os.path.join(REPO, "deploy", "mpirun_local.sh")
POINT_SCRIPT = os.path.join(HERE, "sweep_point.sbatch")
METARM_SBATCH = os.path.join(REPO, "deploy", "slurm", "metarm.sbatch")
EXIT_STOPPED = 3  # trainer/trainer.h: stopped by a signal after a checkpoint


def say(message):
    print(f"sweep: {message}", flush=True)


def state_of(exit_code):
    if exit_code == 0:
        return "completed"
    return "stopped" if exit_code == EXIT_STOPPED else "failed"


def write_json(path, value):
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=1)
    os.replace(path + ".tmp", path)


def make_plan(args):
    """Runs metarm_sweep_plan; the plan as a dict, or exits 2."""
    done = subprocess.run([args.plan_tool, f"--grid={args.grid}",
                           f"--output_dir={args.output_dir}"],
                          capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        sys.exit(2 if done.returncode == 2 else 1)
    with open(os.path.join(args.output_dir, "sweep_plan.json")) as f:
        return json.load(f)


def calibration_shapes(plan):
    """The shapes the model needs (bench/scaling_model.py calibration_key):
    the PPO update at each point's minibatch share per learner."""
    return sorted({calibration_key_of(p["facts"]) for p in plan["points"]})


def ensure_calibration(args, plan):
    """DIR/calibration.json, measured once on this machine (kept on later
    runs of the sweep so that every report uses the same constants)."""
    path = os.path.join(args.output_dir, "calibration.json")
    if args.no_calibration or os.path.exists(path):
        return
    if not os.access(os.path.join(args.bench_dir, "metarm_learner_bench"), os.X_OK):
        say(f"no benchmarks in {args.bench_dir} (--bench_dir): the report has "
            "no model column")
        return
    shapes = calibration_shapes(plan)
    say(f"calibrating the model on this machine ({len(shapes)} model shape(s) "
        "and the collectives, bench/calibrate.py)")
    result = calibrate.calibrate(args.bench_dir, shapes)
    result["host"] = os.uname().nodename
    write_json(path, result)


def run_point_locally(args, point, number, total):
    folder = point["folder"]
    status = sweep_report.read_status(point)
    world = point["facts"]["world_size"]
    title = f"point {number}/{total} {point['name']} ({world} ranks)"
    if status.get("state") == "completed":
        say(f"{title}: completed earlier, skipped")
        return True
    command = [MPIRUN_LOCAL, "-np", str(world), args.trainer,
               f"--job={point['job']}", "--progress=plain"] + args.trainer_flag
    attempts = status.get("attempts", 0) + 1
    log = os.path.join(folder, "log.txt")
    started = time.time()
    write_json(os.path.join(folder, "status.json"),
               {"state": "running", "attempts": attempts, "launcher": "local"})
    with open(log, "a") as f:
        f.write(f"=== sweep attempt {attempts}, {time.strftime('%Y-%m-%d %H:%M:%S')}: "
                f"{' '.join(command)}\n")
        f.flush()
        code = subprocess.run(command, stdout=f, stderr=subprocess.STDOUT,
                              cwd=REPO).returncode
    seconds = round(time.time() - started, 1)
    state = state_of(code)
    write_json(os.path.join(folder, "status.json"),
               {"state": state, "exit_code": code, "seconds": seconds,
                "attempts": attempts, "launcher": "local"})
    detail = "" if code == 0 else f" with exit code {code} (log: {log})"
    say(f"{title}: {state} in {seconds:.0f} s{detail}")
    return code == 0


def run_locally(args, plan):
    points = plan["points"]
    ok = [run_point_locally(args, p, i + 1, len(points))
          for i, p in enumerate(points)]
    return all(ok)


def scontrol(*words):
    done = subprocess.run(["scontrol", *words], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"scontrol {' '.join(words)}: {done.stderr.strip()}")


def submit_array(args, plan):
    """One held array, each task resized to its point's ranks, then released.
    Returns the array's job id, or None when every point completed."""
    todo = [p for p in plan["points"]
            if sweep_report.read_status(p).get("state") != "completed"]
    for p in plan["points"]:
        if p not in todo:
            say(f"point {p['name']}: completed earlier, not submitted")
    if not todo:
        return None
    table = os.path.join(args.output_dir, "array_points.tsv")
    with open(table + ".tmp", "w") as f:
        for p in plan["points"]:
            f.write(f"{p['index']}\t{p['name']}\t{p['facts']['world_size']}\t{p['job']}\n")
    os.replace(table + ".tmp", table)
    indices = ",".join(str(p["index"]) for p in todo)
    env = dict(os.environ, METARM_TRAINER=args.trainer,
               METARM_SWEEP_SBATCH=METARM_SBATCH)
    command = ["sbatch", "--parsable", "--hold", f"--array={indices}",
               f"--job-name=metarm-sweep-{plan['name']}",
               f"--output={args.output_dir}/slurm-%A_%a.out",
               f"--cpus-per-task={args.cpus_per_task}"] + args.sbatch + [
               POINT_SCRIPT, args.output_dir]
    done = subprocess.run(command, capture_output=True, text=True, env=env,
                          cwd=REPO)
    if done.returncode != 0:
        sys.exit(f"sweep: sbatch failed ({done.returncode}): {done.stderr.strip()}")
    array_id = done.stdout.strip().split(";")[0]
    # An array's tasks share one size; each held task is resized to its
    # point's world size (Slurm splits it into a job record of its own).
    try:
        for p in todo:
            world = p["facts"]["world_size"]
            words = [f"JobId={array_id}_{p['index']}", f"NumTasks={world}",
                     f"NumCPUs={world * args.cpus_per_task}"]
            if args.tasks_per_node:
                words.append(f"NumNodes={math.ceil(world / args.tasks_per_node)}")
            scontrol("update", *words)
        scontrol("release", array_id)
    except RuntimeError as error:
        subprocess.run(["scancel", array_id])
        sys.exit(f"sweep: {error}; the array {array_id} was cancelled")
    write_json(os.path.join(args.output_dir, "slurm_array.json"),
               {"array_job_id": array_id, "indices": indices,
                "submitted": time.strftime("%Y-%m-%d %H:%M:%S")})
    say(f"submitted array job {array_id}: {len(todo)} point(s), tasks {indices}")
    return array_id


def wait_for_array(array_id, poll_seconds=2):
    while True:
        done = subprocess.run(["squeue", "-h", "-r", "-j", array_id, "-o", "%i %T"],
                              capture_output=True, text=True)
        if done.returncode == 0 and not done.stdout.strip():
            return
        time.sleep(poll_seconds)


def finish(args, plan, all_ok):
    rows = sweep_report.write_report(args.output_dir)
    done = sum(r["state"] == "completed" for r in rows)
    say(f"{done} of {len(rows)} points completed; report: "
        f"{os.path.join(args.output_dir, 'report.md')}")
    for r in rows:
        if r["state"] != "completed":
            code = "" if r["exit_code"] is None else f" (exit code {r['exit_code']})"
            say(f"  {r['name']}: {r['state']}{code}, log {r['log']}")
    return 0 if all_ok and done == len(rows) else 1


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--local", metavar="GRID")
    mode.add_argument("--slurm", metavar="GRID")
    mode.add_argument("--report", metavar="DIR")
    p.add_argument("--output_dir")
    p.add_argument("--trainer", default=os.environ.get(
        "METARM_TRAINER", os.path.join(REPO, "bazel-bin/trainer/metarm_train")))
    p.add_argument("--plan_tool", default=os.path.join(
        REPO, "bazel-bin/experiments/scaling/metarm_sweep_plan"))
    p.add_argument("--bench_dir", default=os.path.join(REPO, "bazel-bin/bench"),
                   help="where metarm_learner_bench and metarm_comm_bench are "
                        "(the model's calibration)")
    p.add_argument("--no_calibration", action="store_true")
    p.add_argument("--trainer_flag", action="append", default=[],
                   help="a metarm_train flag for every point (repeatable)")
    p.add_argument("--tasks_per_node", type=int, default=0,
                   help="--slurm: ranks per node (nodes = ceil(ranks / this))")
    p.add_argument("--cpus_per_task", type=int, default=1)
    p.add_argument("--sbatch", action="append", default=[],
                   help="--slurm: an sbatch option for every point, e.g. "
                        "--sbatch=--time=01:00:00 (repeatable)")
    p.add_argument("--wait", action="store_true",
                   help="--slurm: wait for the array, then write the report")
    args = p.parse_args(argv)
    if args.report:
        args.output_dir = args.report
    if not args.output_dir:
        p.error("--output_dir is required")
    args.output_dir = os.path.abspath(args.output_dir)
    args.grid = os.path.abspath(args.local or args.slurm or "")
    args.trainer = os.path.abspath(args.trainer)
    for name in ("trainer", "plan_tool"):
        if not args.report and not os.access(getattr(args, name), os.X_OK):
            p.error(f"--{name} {getattr(args, name)} is not an executable "
                    "(build it: experiments/scaling/sweep.sh does)")
    if args.slurm and not shutil.which("sbatch"):
        p.error("--slurm: sbatch is not on the PATH (run it where Slurm's "
                "commands are, e.g. a login node)")
    if args.tasks_per_node < 0 or args.cpus_per_task < 1:
        p.error("--tasks_per_node must be >= 0 and --cpus_per_task >= 1")
    return args


def main(argv):
    args = parse_args(argv)
    if args.report:
        return finish(args, None, True)
    plan = make_plan(args)
    say(f"{len(plan['points'])} points of '{plan['name']}' in {args.output_dir}")
    ensure_calibration(args, plan)
    if args.local:
        return finish(args, plan, run_locally(args, plan))
    array_id = submit_array(args, plan)
    if array_id and not args.wait:
        say(f"when the array has ended: {sys.argv[0]} --report {args.output_dir}")
        return 0
    if array_id:
        wait_for_array(array_id)
    return finish(args, plan, True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
