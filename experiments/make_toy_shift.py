#!/usr/bin/python3
"""A small preference data set with a known gold reward and a shifted split.

Responses are strings of letters. The gold reward counts letters:
  r*(y) = #a + #b - #c - #d + #i + #j - #k - #l
Training responses (the "SFT distribution") use only the letters a-h, so a
reward model learns the first four terms from them. Shifted responses (the
"policy after RL") use a-p and are longer: the letters i-l matter there and a
model trained on the original pairs has never seen them. Labels follow the
Bradley-Terry model on the gold reward: P(a preferred) = sigmoid((r*(a) -
r*(b)) / T).

Writes into OUT_DIR:
  train.jsonl           labelled pairs, original distribution
  eval.jsonl            labelled pairs, original distribution (held out)
  shifted.jsonl         labelled pairs, shifted distribution
  meta.jsonl            prompts with k unlabelled shifted responses (meta set)
  eval_responses.jsonl  the same, held out (reward-gap diagnostic)

  make_toy_shift.py OUT_DIR [--pairs N] [--k K] [--seed S] [--temperature T]
"""
import argparse
import json
import math
import os
import random

ORIGINAL = "abcdefgh"
SHIFTED = "abcdefghijklmnop"
WEIGHTS = {"a": 1, "b": 1, "c": -1, "d": -1, "i": 1, "j": 1, "k": -1, "l": -1}


def gold(response):
    return sum(WEIGHTS.get(ch, 0) for ch in response)


def prompt(rng):
    return "rate: " + "".join(rng.choice(ORIGINAL) for _ in range(4))


def response(rng, shifted):
    letters, low, high = (SHIFTED, 10, 20) if shifted else (ORIGINAL, 4, 12)
    return "".join(rng.choice(letters) for _ in range(rng.randint(low, high)))


def pair(rng, shifted, temperature):
    x = prompt(rng)
    a, b = response(rng, shifted), response(rng, shifted)
    p_a = 1.0 / (1.0 + math.exp(-(gold(a) - gold(b)) / temperature))
    chosen, rejected = (a, b) if rng.random() < p_a else (b, a)
    return {"prompt": x, "chosen": chosen, "rejected": rejected}


def response_set(rng, k):
    return {"prompt": prompt(rng),
            "responses": [response(rng, True) for _ in range(k)]}


def write(path, records):
    with open(path, "w") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    held_out = max(50, args.pairs // 5)
    t = args.temperature
    write(os.path.join(args.out_dir, "train.jsonl"),
          [pair(rng, False, t) for _ in range(args.pairs)])
    write(os.path.join(args.out_dir, "eval.jsonl"),
          [pair(rng, False, t) for _ in range(held_out)])
    write(os.path.join(args.out_dir, "shifted.jsonl"),
          [pair(rng, True, t) for _ in range(held_out)])
    write(os.path.join(args.out_dir, "meta.jsonl"),
          [response_set(rng, args.k) for _ in range(held_out)])
    write(os.path.join(args.out_dir, "eval_responses.jsonl"),
          [response_set(rng, args.k) for _ in range(held_out // 2)])


if __name__ == "__main__":
    main()
