#!/usr/bin/env python3
"""Tiny Llama-3- and Qwen2-style tokenizer.json folders with reference
encodings from an independent byte-level BPE written here.

    make_bpe_tokenizers.py OUT_DIR

writes OUT_DIR/llama3/ and OUT_DIR/qwen2/ (tokenizer.json: a Sequence
pre-tokenizer of the model's Split regex and a ByteLevel; merges learned here
from a small corpus; the model's special tokens; tokenizer_config.json naming
bos/eos) and OUT_DIR/expected.json: {"llama3": [[text, ids], ...], ...}.
The pre-tokenization uses Python's `regex` module (python3-regex), the
merges a plain BPE loop: nothing of metarm's C++ (tasks/bpe_tokenizer.cc).
"""
import collections
import json
import os
import sys

import regex

# The published patterns: Llama 3 groups digits by three, Qwen2 by one.
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|"
                  r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|"
                 r"\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = ("The quick brown fox jumps over the lazy dog. I'm sure they'll "
          "see 2024 and 12345 numbers; don't they? Hello world, hello there!\n"
          "\n  indented   text\twith tabs  and   spaces. naïve café 東京 ") * 3

TEXTS = ["Hello world", "I'M here, you'LL see THE dog's bone", "12345 and 7 or 2024",
         "line one\n\n  two  \tspaces   ", "naïve café 東京!", "don't stop",
         "   leading and trailing   ", "a\r\nb", "ab12cd345ef", "a zebra"]


def bytes_to_unicode():
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE = bytes_to_unicode()


def learn_merges(pattern, count):
    words = collections.Counter(
        tuple(BYTE[b] for b in piece.encode()) for piece in regex.findall(pattern, CORPUS))
    merges = []
    for _ in range(count):
        pairs = collections.Counter()
        for word, n in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merges.append(best)
        merged = collections.Counter()
        for word, n in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += n
        words = merged
    return merges


def encode_piece(piece, vocab, ranks, ignore_merges):
    word = [BYTE[b] for b in piece.encode()]
    if ignore_merges and "".join(word) in vocab:
        return [vocab["".join(word)]]
    while len(word) > 1:
        best = min(range(len(word) - 1),
                   key=lambda i: ranks.get((word[i], word[i + 1]), float("inf")))
        pair = (word[best], word[best + 1])
        if pair not in ranks:
            break
        out, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
                out.append(word[i] + word[i + 1])
                i += 2
            else:
                out.append(word[i])
                i += 1
        word = out
    return [vocab[w] for w in word]


def encode(text, pattern, vocab, ranks, specials, ignore_merges):
    ids = []
    split = regex.compile("(" + "|".join(regex.escape(s) for s in specials) + ")")
    for part in split.split(text):
        if part in specials:
            ids.append(specials[part])
        elif part:
            for piece in regex.findall(pattern, part):
                ids += encode_piece(piece, vocab, ranks, ignore_merges)
    return ids


def write(out, name, pattern, specials, config, ignore_merges):
    # Digit merges first, so that the patterns' digit groups (three for
    # Llama 3, one for Qwen2) give different tokens.
    merges = [("1", "2"), ("12", "3"), ("4", "5"), ("2", "0"), ("20", "2"),
              ("202", "4")] + learn_merges(pattern, 60)
    vocab = {BYTE[b]: b for b in range(256)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    # An entry no merge makes: with ignore_merges (Llama 3) " world" is
    # this one token, without it the merges' pieces.
    vocab.setdefault(BYTE[32] + "zebra", len(vocab))
    ranks = {pair: i for i, pair in enumerate(merges)}
    special_ids = {s: len(vocab) + i for i, s in enumerate(specials)}
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    tokenizer = {
        "version": "1.0",
        "added_tokens": [{"id": i, "content": s, "special": True}
                         for s, i in special_ids.items()],
        "normalizer": {"type": "NFC"} if name == "qwen2" else None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": pattern},
             "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False,
             "trim_offsets": False, "use_regex": False}]},
        "model": {"type": "BPE", "vocab": vocab, "ignore_merges": ignore_merges,
                  "merges": [f"{a} {b}" if name == "qwen2" else [a, b] for a, b in merges]},
    }
    json.dump(tokenizer, open(os.path.join(folder, "tokenizer.json"), "w"),
              ensure_ascii=False)
    json.dump(config, open(os.path.join(folder, "tokenizer_config.json"), "w"))
    texts = TEXTS + [t for t in config.get("template_texts", [])]
    return [[t, encode(t, pattern, vocab, ranks, special_ids, ignore_merges)] for t in texts]


def main(out):
    expected = {
        "llama3": write(out, "llama3", LLAMA3_PATTERN,
                        ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                         "<|end_header_id|>", "<|eot_id|>"],
                        {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
                         "template_texts": ["<|start_header_id|>user<|end_header_id|>\n\n"
                                            "Hi 123<|eot_id|>"]},
                        ignore_merges=True),
        "qwen2": write(out, "qwen2", QWEN2_PATTERN,
                       ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                       {"bos_token": None, "eos_token": "<|im_end|>",
                        "template_texts": ["<|im_start|>user\nHi 123<|im_end|>\n"]},
                       ignore_merges=False),
    }
    json.dump(expected, open(os.path.join(out, "expected.json"), "w"), ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
