"""Checks of the end-to-end shell tests, in one place.

Each subcommand reads a run's output files and exits 0 when the check holds,
1 (with the reason on stderr or a printed figure) when it does not:

    /usr/bin/python3 tests/e2e.py job rlhf_tiny name=a seed=3 ... > a.pbtxt
    /usr/bin/python3 tests/e2e.py keys out/metrics.jsonl 6 round iteration
    /usr/bin/python3 tests/e2e.py same out_a out_b metrics.jsonl rounds.jsonl
    /usr/bin/python3 tests/e2e.py agree out_a out_b 1e-5

`job` fills a template of tests/jobs/ (string.Template placeholders, with the
defaults written at its top as "# default NAME VALUE" lines).
"""

import glob
import gzip
import json
import math
import os
import string
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def rows(path, drop=("seconds",)):
    """The JSON lines of `path`, without the keys in `drop` (timings)."""
    out = []
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            for key in drop:
                row.pop(key, None)
            out.append(row)
    return out


def numbers(row, prefix=""):
    """(path, value) for every number of a row, nested dicts flattened."""
    for key, value in row.items():
        if isinstance(value, dict):
            yield from numbers(value, prefix + key + "/")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield prefix + key, value


def fail(*what):
    print(*what, file=sys.stderr)
    return 1


# --- job templates -----------------------------------------------------------


def job(template, *assignments):
    """Prints tests/jobs/TEMPLATE.pbtxt with its placeholders filled."""
    path = os.path.join(HERE, "jobs", template + ".pbtxt")
    text = open(path).read()
    values = {}
    body = []
    for line in text.splitlines(keepends=True):
        if line.startswith("# default "):
            _, _, name, value = line.rstrip("\n").split(" ", 3)
            values[name] = "" if value == '""' else value
        else:
            body.append(line)
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        if name not in values:
            return fail(f"{path}: no placeholder {name!r}; it has {sorted(values)}")
        values[name] = value
    sys.stdout.write(string.Template("".join(body)).substitute(values))
    return 0


# --- JSON-lines logs ----------------------------------------------------------


def keys(path, lines, *wanted):
    """FILE has LINES lines and every one holds every key in `wanted`."""
    found = rows(path, drop=())
    if len(found) != int(lines):
        return fail(path, "has", len(found), "lines, expected", lines)
    for row in found:
        missing = [k for k in wanted if k not in row]
        if missing:
            return fail(path, "lacks", missing)
    return 0


def same(dir_a, dir_b, *files):
    """Every line of every file equal in both folders, timings aside."""
    for name in files:
        a, b = rows(f"{dir_a}/{name}"), rows(f"{dir_b}/{name}")
        if a != b:
            return fail(name, "differs:", len(a), "lines against", len(b))
    return 0


def agree(dir_a, dir_b, tolerance, *keys_to_compare):
    """Every number of metrics.jsonl and rounds.jsonl (or only the named keys)
    within `tolerance` in both folders; prints the largest difference."""
    worst, where = 0.0, ""
    for name in ["metrics.jsonl", "rounds.jsonl"]:
        a, b = rows(f"{dir_a}/{name}"), rows(f"{dir_b}/{name}")
        if len(a) != len(b):
            return fail(name, len(a), "lines against", len(b))
        for row_a, row_b in zip(a, b):
            other = dict(numbers(row_b))
            for key, value in numbers(row_a):
                if keys_to_compare and key not in keys_to_compare:
                    continue
                if abs(value - other[key]) > worst:
                    worst, where = abs(value - other[key]), f"{name}:{key}"
    print("largest difference", worst, where)
    return 0 if worst <= float(tolerance) else 1


def rounds_complete(path):
    """rounds.jsonl of a two-round RLHF run: rounds 1 and 2 carry every
    evaluation key, and win + tie + lose = 1."""
    wanted = ["round", "gold_reward_mean", "proxy_reward_mean", "win", "tie",
              "lose", "rm_acc_original", "rm_acc_shifted", "reward_gap_mean",
              "kl_to_reference"]
    found = rows(path, drop=())[1:]
    if [r["round"] for r in found] != [1, 2]:
        return fail("rounds", [r["round"] for r in found])
    for r in found:
        missing = [k for k in wanted if k not in r]
        if missing:
            return fail("missing", missing)
        if abs(r["win"] + r["tie"] + r["lose"] - 1) >= 1e-9:
            return fail("win + tie + lose", r["win"] + r["tie"] + r["lose"])
    return 0


def reward_steps(out, epochs_file, steps_file, *rounds_wanted):
    """The per-step reward-model log agrees with the per-epoch one: as many
    steps, numbered 1.., and each epoch's means are its steps' means."""
    epochs = rows(f"{out}/{epochs_file}", drop=())
    steps = rows(f"{out}/{steps_file}", drop=())
    if not steps or sum(e["steps"] for e in epochs) != len(steps):
        return fail(len(steps), "steps logged;", [e["steps"] for e in epochs])
    if [s["step"] for s in steps] != list(range(1, len(steps) + 1)):
        return fail("steps not numbered 1..n")
    if rounds_wanted and {s["round"] for s in steps} != {int(r) for r in rounds_wanted}:
        return fail("rounds", {s["round"] for s in steps})
    pairs = [("loss", "train_loss"), ("accuracy", "train_accuracy"),
             ("gradient_cosine", "gradient_cosine"),
             ("meta_step_ratio", "meta_step_ratio"),
             ("meta_objective", "meta_objective")]
    for e in epochs:
        mine = [s for s in steps
                if s["epoch"] == e["epoch"] and s.get("round") == e.get("round")]
        if len(mine) != e["steps"]:
            return fail("epoch", e["epoch"], len(mine), "steps, logged", e["steps"])
        for step_key, epoch_key in pairs:
            mean = sum(s[step_key] for s in mine) / len(mine)
            if abs(mean - e[epoch_key]) >= 1e-9:
                return fail(step_key, mean, e[epoch_key])
    return 0


def staleness_schedule(path):
    """An asynchronous run (max_staleness 1, 3 iterations a round, 2 rounds):
    every batch after a round's first is one version old, none dropped."""
    found = rows(path, drop=())
    ages = [r["batch_staleness"] for r in found]
    if ages != [0, 1, 1, 0, 1, 1]:
        return fail("batch ages", ages)
    if any(r["stale_dropped"] != 0 for r in found):
        return fail("batches dropped")
    if [r["policy_version"] for r in found] != [1, 2, 3, 4, 5, 6]:
        return fail("versions", [r["policy_version"] for r in found])
    parts = {"generation", "scoring", "waiting_for_experience", "learning",
             "weight_sync"}
    if any(set(r["seconds"]) != parts for r in found):
        return fail("timings", found[0]["seconds"])
    return 0


def differs_after_first(path_a, path_b, key):
    """Two runs' `key` in metrics.jsonl: the same first value (both on-policy),
    different later ones."""
    a = [r[key] for r in rows(path_a)]
    b = [r[key] for r in rows(path_b)]
    if abs(a[0] - b[0]) >= 1e-5:
        return fail("first values differ", a[0], b[0])
    if max(abs(x - y) for x, y in zip(a[1:], b[1:])) <= 1e-4:
        return fail("later values equal", a, b)
    return 0


def improves(path, key):
    """The last line's `key` is above the first line's."""
    found = rows(path, drop=())
    print(key, "by line:", [round(r[key], 3) for r in found])
    return 0 if found[-1][key] > found[0][key] else 1


def final(path, key):
    """Prints the last line's `key` (for shell comparisons)."""
    print(rows(path, drop=())[-1][key])
    return 0


# --- TensorBoard, checkpoints, exports, data ----------------------------------


def tensorboard_matches(reader, out):
    """The event file in OUT/tb passes the independent reader and holds every
    number of metrics.jsonl and rounds.jsonl at its step."""
    (path,) = glob.glob(out + "/tb/events.out.tfevents.*")
    events = [json.loads(line) for line in subprocess.run(
        ["/usr/bin/python3", reader, path], check=True, capture_output=True,
        text=True).stdout.splitlines()]
    if events[0]["file_version"] != "brain.Event:2":
        return fail("file version", events[0])
    checked = 0
    for name, step_key in [("metrics", "policy_version"), ("rounds", "round")]:
        for row in rows(f"{out}/{name}.jsonl", drop=()):
            step = row[step_key]
            (event,) = [e for e in events if e["step"] == step and
                        any(t.startswith(name + "/") for t in e["values"])]
            for tag, value in numbers(row, name + "/"):
                got = event["values"][tag]
                if not math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-30):
                    return fail(tag, got, value)
                checked += 1
    print("checked", checked, "scalars")
    return 0 if checked > 100 else fail("only", checked, "scalars")


def checkpoint_intact(folder):
    """Every file a checkpoint's manifest lists has its size and CRC-32C."""
    import crc32c
    manifest = json.load(open(folder + "/manifest.json"))
    for name, entry in manifest["files"].items():
        data = open(f"{folder}/{name}", "rb").read()
        if len(data) != entry["bytes"] or crc32c.crc32c(data) != entry["crc32c"]:
            return fail(name, "does not match the manifest")
    return 0


def flip_byte(path, offset):
    """Inverts one byte of a file in place (a corrupt checkpoint)."""
    with open(path, "r+b") as f:
        f.seek(int(offset))
        byte = f.read(1)
        f.seek(int(offset))
        f.write(bytes([byte[0] ^ 0xFF]))
    return 0


def llama_reward_export(folder):
    """A reward model exported as a Llama folder with its scalar head."""
    data = open(f"{folder}/model.safetensors", "rb").read()
    header = json.loads(data[8:8 + struct.unpack("<Q", data[:8])[0]])
    if json.load(open(f"{folder}/config.json"))["model_type"] != "llama":
        return fail("not a llama config")
    if header["score.weight"]["shape"] != [1, 32]:
        return fail("score head", header["score.weight"])
    if "model.layers.1.self_attn.k_proj.weight" not in header:
        return fail("no layer 1")
    print("reward model export:", len(header) - 1, "tensors")
    return 0


def chosen_texts(gz_path, out_path):
    """The chosen dialogues of an HH-RLHF file, one a line (for training a
    SentencePiece model)."""
    with gzip.open(gz_path, "rt") as f, open(out_path, "w") as out:
        for line in f:
            out.write(json.loads(line)["chosen"].strip() + "\n")
    return 0


def bench_figures(results):
    """bench/run.sh's results.json names every figure the docs quote."""
    names = {f["name"] for f in json.load(open(results))["figures"]}
    want = {"gemm_peak", "metarm_step_mfu", "vanilla_rm_step_mfu",
            "ppo_update_mfu", "metarm_step_samples_per_second",
            "generation_kv_cache_speedup", "kv_cache_bytes_per_sequence",
            "python_over_cpp_metarm_step", "python_over_cpp_ppo_update",
            "python_over_cpp_generation", "weight_sync_bucketed_over_flat",
            "weight_sync_per_tensor_over_flat",
            "grad_allreduce_effective_bandwidth_ratio",
            "zero1_optimizer_state_share", "zero1_max_parameter_difference",
            "zero1_step_sharded_over_replicated",
            "activation_checkpointing_memory_saving",
            "activation_checkpointing_time_cost",
            "activation_checkpointing_max_gradient_difference",
            "bf16_over_fp32_step_time", "bf16_gradient_relative_error",
            "engine_over_static", "engine_useful_tokens_per_second",
            "shared_prompt_speedup", "decode_memory_roofline_fraction_b1",
            "decode_memory_roofline_fraction_b16", "kv_bytes_per_token",
            "kv_pool_mean_fill_share", "kv_bytes_per_sequence_engine",
            "kv_bytes_per_sequence_static"}
    missing = want - names
    if missing:
        return fail("missing:", sorted(missing))
    print(len(names), "figures")
    return 0


def bench_spreads_and_bounds(results):
    """Every figure of results.json carries its spread (median inside
    [min, max], the repeats and their samples), every ratio pooled from at
    least two pairs or passes, and the bounded figures inside their bounds,
    checked here apart from bench/summarize.py: MFU in (0, 1], shares in
    [0, 1], ratios positive."""
    for f in json.load(open(results))["figures"]:
        name = f["name"]
        if not all(k in f for k in ("median", "min", "max", "repeats", "samples")):
            return fail(name, "has no spread:", sorted(f))
        if len(f["samples"]) != f["repeats"] or not f["min"] <= f["median"] <= f["max"]:
            return fail(name, "spread inconsistent:", f["min"], f["median"], f["max"], f["repeats"])
        if f["unit"].startswith("x (") and "sharded / replicated state" not in f["unit"]:
            if f["repeats"] < 2:
                return fail(name, "a ratio from one pair")
            if not f["median"] > 0:
                return fail(name, "ratio not positive:", f["median"])
        if name.endswith("_mfu") and not 0 < f["median"] <= 1:
            return fail(name, "MFU outside (0, 1]:", f["median"])
        if name.endswith("_share") and not 0 <= f["median"] <= 1:
            return fail(name, "share outside [0, 1]:", f["median"])
    return 0


def testbed_result(path):
    """experiments/testbed_shift's result.json (--task=reverse, n 1, 2, 4)."""
    r = json.load(open(path))
    if r["task"] != "reverse" or [p["n"] for p in r["best_of_n"]] != [1, 2, 4]:
        return fail("task or best-of-n", r["task"], r["best_of_n"])
    if any(set(p) != {"n", "kl_bound", "proxy", "gold"} for p in r["best_of_n"]):
        return fail("best-of-n keys", r["best_of_n"])
    if not (0 <= r["accuracy_sft_pairs"] <= 1 and 0 <= r["accuracy_shifted_pairs"] <= 1):
        return fail("accuracies", r["accuracy_sft_pairs"], r["accuracy_shifted_pairs"])
    return 0


def meta_set(path, prompts, responses):
    """A meta set file of PROMPTS lines with RESPONSES responses each."""
    found = rows(path, drop=())
    if len(found) != int(prompts):
        return fail(len(found), "prompts")
    if any(len(r["responses"]) != int(responses) for r in found):
        return fail("responses per prompt", [len(r["responses"]) for r in found])
    return 0


def _mean(rows_of_numbers):
    flat = [x for row in rows_of_numbers for x in row]
    return sum(flat) / len(flat)


def testbed_evaluation(out, k, tie_band):
    """A testbed run's judged numbers in rounds.jsonl, recomputed from
    eval_samples.jsonl: every prompt's K samples judged (gold_reward_mean,
    sft_judge_reward_mean, win/tie/lose with TIE_BAND), the same SFT samples
    in every round, and the accuracies' pair counts and gold ceiling in
    range."""
    k, tie_band = int(k), float(tie_band)
    rounds = rows(os.path.join(out, "rounds.jsonl"), drop=())
    samples = {s["round"]: s for s in rows(os.path.join(out, "eval_samples.jsonl"), drop=())}
    sft = None
    for row in rounds:
        s = samples[row["round"]]
        if any(len(g) != k for g in s["judge_reward"]):
            return fail("round", row["round"], "samples per prompt", [len(g) for g in s["judge_reward"]])
        if abs(row["gold_reward_mean"] - _mean(s["judge_reward"])) > 1e-9:
            return fail("round", row["round"], "gold_reward_mean", row["gold_reward_mean"])
        if row["round"] == 0:
            sft = s["responses"]
            continue
        if s["sft_responses"] != sft:
            return fail("round", row["round"], "compared against other SFT samples")
        if abs(row["sft_judge_reward_mean"] - _mean(s["sft_judge_reward"])) > 1e-9:
            return fail("round", row["round"], "sft_judge_reward_mean")
        if any(len(p) != k for p in s["proxy_reward"]):
            return fail("round", row["round"], "proxy scores per prompt")
        counts = {"win": 0, "tie": 0, "lose": 0}
        for mine, theirs in zip(s["judge_reward"], s["sft_judge_reward"]):
            for a, b in zip(mine, theirs):
                counts["tie" if abs(a - b) <= tie_band else "win" if a > b else "lose"] += 1
        total = sum(counts.values())
        for key, n in counts.items():
            if abs(row[key] - n / total) > 1e-9:
                return fail("round", row["round"], key, row[key], "recomputed", n / total)
        if not 0.5 <= row["gold_acc_original"] <= 1:
            return fail("gold_acc_original", row["gold_acc_original"])
        if not 0 < row["shifted_pairs"] <= len(s["prompts"]) or \
                not 0 < row["rm_acc_original_pairs"]:
            return fail("pair counts", row["shifted_pairs"], row["rm_acc_original_pairs"])
    print("rounds", [r["round"] for r in rounds], "judged samples", total)
    return 0


def best_of_n(out, n):
    """The best-of-N pre-test of every round, recomputed from
    eval_samples.jsonl: N candidates a prompt, the same in every round; the
    pick is the proxy's highest; bon_proxy_mean and bon_gold_mean are the
    picks' means."""
    n = int(n)
    rounds = {r["round"]: r for r in rows(os.path.join(out, "rounds.jsonl"), drop=())}
    candidates = None
    checked = 0
    for s in rows(os.path.join(out, "eval_samples.jsonl"), drop=()):
        r = s["round"]
        if r == 0:
            continue
        if any(len(c) != n for c in s["bon_candidate_ids"]):
            return fail("round", r, "candidates per prompt")
        if candidates is not None and s["bon_candidate_ids"] != candidates:
            return fail("round", r, "candidates differ from round 1's")
        candidates = s["bon_candidate_ids"]
        for scores, pick in zip(s["bon_proxy_reward"], s["bon_picked"]):
            if scores[pick] != max(scores):
                return fail("round", r, "pick", pick, "is not the proxy's best", scores)
        row = rounds[r]
        picked_proxy = [[scores[pick]] for scores, pick in zip(s["bon_proxy_reward"], s["bon_picked"])]
        if abs(row["bon_proxy_mean"] - _mean(picked_proxy)) > 1e-9 or \
                abs(row["bon_gold_mean"] - _mean(s["bon_judge_reward"])) > 1e-9 or \
                row["bon_n"] != n:
            return fail("round", r, "bon_* means", row)
        checked += 1
    return 0 if checked == len(rounds) - 1 else fail("rounds checked", checked)


def arms_share_the_start(out_a, out_b):
    """Two runs that differ only in arm_seed: the same SFT, round 0, held-out
    pairs (the gold reward's accuracy on them), evaluation prompts and SFT
    samples; different PPO rollouts."""
    if rows(os.path.join(out_a, "sft.jsonl")) != rows(os.path.join(out_b, "sft.jsonl")):
        return fail("SFT differs")
    rounds_a = rows(os.path.join(out_a, "rounds.jsonl"))
    rounds_b = rows(os.path.join(out_b, "rounds.jsonl"))
    if rounds_a[0] != rounds_b[0]:
        return fail("round 0 differs", rounds_a[0], rounds_b[0])
    for a, b in zip(rounds_a[1:], rounds_b[1:]):
        if a["gold_acc_original"] != b["gold_acc_original"]:
            return fail("held-out pairs differ")
    samples_a = rows(os.path.join(out_a, "eval_samples.jsonl"))
    samples_b = rows(os.path.join(out_b, "eval_samples.jsonl"))
    for a, b in zip(samples_a, samples_b):
        if a["prompts"] != b["prompts"] or a.get("sft_responses") != b.get("sft_responses"):
            return fail("round", a["round"], "prompts or SFT samples differ")
        if a.get("bon_candidate_ids") != b.get("bon_candidate_ids"):
            return fail("round", a["round"], "best-of-n candidates differ")
    metrics_a = rows(os.path.join(out_a, "metrics.jsonl"))
    metrics_b = rows(os.path.join(out_b, "metrics.jsonl"))
    if metrics_a[0]["proxy_reward_mean"] == metrics_b[0]["proxy_reward_mean"]:
        return fail("the first PPO iteration is the same in both arms")
    return 0


COMMANDS = {f.__name__: f for f in [
    job, keys, same, agree, rounds_complete, reward_steps, staleness_schedule,
    differs_after_first, improves, final, tensorboard_matches,
    checkpoint_intact, flip_byte, llama_reward_export, chosen_texts,
    bench_figures, bench_spreads_and_bounds, testbed_result, meta_set,
    testbed_evaluation, arms_share_the_start, best_of_n]}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(fail("usage: e2e.py", "|".join(sorted(COMMANDS)), "ARGS..."))
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]))
