"""The data-driven RLHF job's end-to-end test material and its independent
check (tests/data_rlhf_job_test.sh).

    data_rlhf.py make OUT          tiny pretrained policy and judge (GPT-2
                                   Hugging Face folders over the byte
                                   tokenizer, random weights, seeded) and
                                   JSON-lines data in OUT
    data_rlhf.py check RUN JUDGE MAX_PROMPT MAX_RESPONSE TIE_BAND
                                   recomputes the judged metrics of
                                   RUN/rounds.jsonl from RUN/eval_samples.jsonl

`check` scores every written response again with the judge through a
forward pass written from GPT-2's definition (model/testdata/
make_tiny_models.py), not through metarm, and recomputes the means,
win/tie/lose and lengths from those scores.
"""
import json
import math
import os
import random
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "model", "testdata"))
import make_tiny_models as tiny  # noqa: E402

BOS, EOS, FIRST_BYTE = 1, 2, 3  # metarm's byte tokenizer (tasks/tokenizer.h)
KEYS = ["round", "judge_reward_mean", "proxy_reward_mean", "win", "tie",
        "lose", "rm_acc_original", "rm_acc_shifted", "reward_gap_mean",
        "kl_to_reference", "response_length_mean"]


def gpt2_folder(folder, config, g, score_head):
    weights = tiny.gpt2_weights(config, g)
    if score_head:
        weights["score.weight"] = torch.randn(1, config["n_embd"], generator=g)
    os.makedirs(folder, exist_ok=True)
    json.dump(config, open(os.path.join(folder, "config.json"), "w"), indent=1)
    tiny.write_safetensors(os.path.join(folder, "model.safetensors"), weights)


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def make(out):
    g = torch.Generator().manual_seed(20261129)
    rng = random.Random(20261129)
    base = {"model_type": "gpt2", "vocab_size": 259, "n_positions": 64,
            "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
    gpt2_folder(f"{out}/policy", dict(base, n_embd=32, n_layer=1, n_head=2,
                                      n_inner=64), g, score_head=False)
    gpt2_folder(f"{out}/judge", dict(base, n_embd=48, n_layer=2, n_head=4,
                                     n_inner=96), g, score_head=True)
    # A judge whose vocabulary is not the byte tokenizer's, with no
    # tokenizer files: refused.
    gpt2_folder(f"{out}/judge_other_vocab",
                dict(base, vocab_size=300, n_embd=16, n_layer=1, n_head=2,
                     n_inner=32), g, score_head=True)
    word = lambda: "".join(rng.choice("abcdefgh") for _ in range(rng.randint(2, 5)))
    pairs = []
    for _ in range(47):
        w = word()
        pairs.append({"prompt": f"\n\nHuman: echo {w}\n\nAssistant:",
                      "chosen": f" {w}", "rejected": f" {word()}"})
    w = word()  # one pair as whole HH-RLHF dialogues
    pairs.append({"chosen": f"\n\nHuman: echo {w}\n\nAssistant: {w}",
                  "rejected": f"\n\nHuman: echo {w}\n\nAssistant: no"})
    write_jsonl(f"{out}/pairs.jsonl", pairs)
    prompts = [{"messages": [{"role": "user", "content": f"echo {word()}"}]}
               for _ in range(30)]
    # Too long with its first turn: shortened to the last user turn.
    prompts.append({"messages": [
        {"role": "user", "content": "a first question of some length"},
        {"role": "assistant", "content": "fine"},
        {"role": "user", "content": "echo abc"}]})
    # Too long even alone: dropped.
    prompts.append({"prompt": "x" * 60})
    write_jsonl(f"{out}/prompts.jsonl", prompts)
    write_jsonl(f"{out}/sft.jsonl", [
        {"messages": [{"role": "user", "content": f"echo {w}"},
                      {"role": "assistant", "content": w}]}
        for w in (word() for _ in range(20))])
    # Bad input, each refused with its file, line and reason.
    write_jsonl(f"{out}/prompts_empty.jsonl",
                [{"prompt": "\n\nHuman: hi\n\nAssistant:"}, {"prompt": ""}])
    write_jsonl(f"{out}/prompts_role.jsonl",
                [{"messages": [{"role": "robot", "content": "beep"}]}])
    write_jsonl(f"{out}/pairs_empty_prompt.jsonl",
                pairs[:3] + [{"prompt": "", "chosen": " a", "rejected": " b"}])
    # A byte-level BPE tokenizer.json with no end token at all.
    os.makedirs(f"{out}/tokenizer_no_end", exist_ok=True)
    alphabet = tiny.bytes_to_unicode()
    vocab = {alphabet[b]: b for b in range(256)}
    json.dump({"model": {"type": "BPE", "vocab": vocab, "merges": []},
               "pre_tokenizer": {"type": "ByteLevel"}, "added_tokens": []},
              open(f"{out}/tokenizer_no_end/tokenizer.json", "w"))


def encode(text):
    return [b + FIRST_BYTE for b in text.encode("utf-8")]


def judge_input(prompt, response_ids, max_prompt, max_response):
    """tasks/preference_data.h JoinPromptResponse, as the judge reads it;
    an empty response is its end token (rollout/preference_generator.h)."""
    response = response_ids if response_ids else [EOS]
    return [BOS] + encode(prompt)[-max_prompt:] + response[:max_response] + [EOS]


class Judge:
    def __init__(self, folder):
        self.config = json.load(open(os.path.join(folder, "config.json")))
        self.config["n_inner"] = self.config.get("n_inner") or 4 * self.config["n_embd"]
        self.w = read_safetensors(os.path.join(folder, "model.safetensors"))

    def score(self, tokens):
        with torch.no_grad():
            hidden = tiny.gpt2_hidden(self.w, self.config,
                                      torch.tensor([tokens]))[0, -1]
            score = hidden @ self.w["score.weight"][0]
            if "score.bias" in self.w:
                score = score + self.w["score.bias"][0]
        return float(score)


def read_safetensors(path):
    import struct
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        assert info["dtype"] == "F32", info
        data = bytearray(raw[8 + n + begin:8 + n + end])
        out[name] = torch.frombuffer(data, dtype=torch.float32).reshape(info["shape"]).clone()
    return out


def mean(rows):
    values = [x for row in rows for x in row]
    return sum(values) / len(values)


def close(a, b, what, tol=1e-6):
    if abs(a - b) > tol * max(1.0, abs(a), abs(b)):
        raise SystemExit(f"{what}: written {a}, recomputed {b}")


def check(run, judge_folder, max_prompt, max_response, tie_band):
    judge = Judge(judge_folder)
    rounds = [json.loads(l) for l in open(os.path.join(run, "rounds.jsonl"))]
    samples = {s["round"]: s for s in
               (json.loads(l) for l in open(os.path.join(run, "eval_samples.jsonl")))}
    rescored = 0
    for row in rounds:
        r = row["round"]
        s = samples[r]
        if r >= 1:
            missing = [k for k in KEYS if k not in row]
            if missing:
                raise SystemExit(f"round {r}: rounds.jsonl lacks {missing}")
        # The judge's scores of the written responses, recomputed here from
        # their exact tokens (the text may hold bytes that are not UTF-8).
        for side, ids_key, scores_key in (
                ("policy", "response_ids", "judge_reward"),
                ("SFT", "sft_response_ids", "sft_judge_reward")):
            if ids_key not in s:
                continue
            for prompt, ids, scores in zip(s["prompts"], s[ids_key], s[scores_key]):
                if len(ids) != len(scores):
                    raise SystemExit(f"round {r}: {len(ids)} responses, {len(scores)} scores")
                for tokens, written in zip(ids, scores):
                    mine = judge.score(judge_input(prompt, tokens, max_prompt, max_response))
                    close(written, mine, f"round {r} {side} judge score of {tokens}", 1e-4)
                    rescored += 1
        close(row["judge_reward_mean"], mean(s["judge_reward"]), f"round {r} judge_reward_mean")
        close(row["response_length_mean"],
              mean([[len(t) for t in ids] for ids in s["response_ids"]]),
              f"round {r} response_length_mean")
        for texts, ids in zip(s["responses"], s["response_ids"]):
            for text, tokens in zip(texts, ids):
                raw = bytes(t - FIRST_BYTE for t in tokens if t >= FIRST_BYTE)
                # Text with bytes that are not UTF-8 reached the file with
                # replacement characters; the rest must be its tokens exactly.
                if "\ufffd" not in text and raw.decode("utf-8") != text:
                    raise SystemExit(f"round {r}: text {text!r} is not its tokens {tokens}")
        if r == 0:
            continue
        close(row["proxy_reward_mean"], mean(s["proxy_reward"]), f"round {r} proxy_reward_mean")
        close(row["sft_judge_reward_mean"], mean(s["sft_judge_reward"]),
              f"round {r} sft_judge_reward_mean")
        win = tie = lose = 0
        for mine, theirs in zip(s["judge_reward"], s["sft_judge_reward"]):
            for a, b in zip(mine, theirs):
                if abs(a - b) <= tie_band:
                    tie += 1
                elif a > b:
                    win += 1
                else:
                    lose += 1
        n = win + tie + lose
        k = len(s["responses"][0])
        if n != len(s["prompts"]) * k or k < 2:
            raise SystemExit(f"round {r}: {n} comparisons for {len(s['prompts'])} prompts x {k}")
        for key, value in (("win", win / n), ("tie", tie / n), ("lose", lose / n)):
            close(row[key], value, f"round {r} {key}")
    expected = sum(len(t) for s in samples.values() for t in s["response_ids"]) + \
        sum(len(t) for s in samples.values() for t in s.get("sft_response_ids", []))
    if rescored != expected or rescored == 0:
        raise SystemExit(f"rescored {rescored} of {expected} responses")
    print(f"{len(rounds)} rounds: every judged metric recomputed; all {rescored} "
          f"judge scores recomputed independently within 1e-4")


def proxy_only(run):
    """A run without a judge: rounds 1.. hold the proxy-side metrics and no
    judged one."""
    judged = {"judge_reward_mean", "sft_judge_reward_mean", "win", "tie",
              "lose", "rm_acc_shifted"}
    proxy = {"proxy_reward_mean", "rm_acc_original", "reward_gap_mean",
             "kl_to_reference", "response_length_mean"}
    rounds = [json.loads(l) for l in open(os.path.join(run, "rounds.jsonl"))]
    for row in rounds:
        present = judged & set(row)
        if present:
            raise SystemExit(f"round {row['round']}: judged keys {present}")
        if row["round"] >= 1 and not proxy <= set(row):
            raise SystemExit(f"round {row['round']}: lacks {proxy - set(row)}")
    if len(rounds) < 2:
        raise SystemExit(f"{len(rounds)} rounds written")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "proxy_only":
        proxy_only(sys.argv[2])
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
              float(sys.argv[6]))
    else:
        raise SystemExit(__doc__)
