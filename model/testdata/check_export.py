#!/usr/bin/env python3
"""Checks a trained model exported by metarm (ModelSpec.export_hf) against
the folder it started from, with the independent reader and forward pass of
make_tiny_models.py:

    check_export.py EXPORTED ORIGINAL gpt2|llama

the same tensor names (save_pretrained's "transformer." prefix aside) and
shapes, some weights changed by training, and finite logits from the
reference forward pass on the exported weights.
"""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tiny_models as ref  # noqa: E402

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = torch.frombuffer(bytearray(body[begin:end]), dtype=torch.uint8)
        out[name] = raw.view(DTYPES[entry["dtype"]]).reshape(entry["shape"]).float()
    return out


def main(exported, original, family):
    mine = {k.removeprefix("transformer."): v for k, v in
            read_safetensors(f"{exported}/model.safetensors").items()}
    theirs = read_safetensors(f"{original}/model.safetensors")
    assert sorted(mine) == sorted(theirs), (sorted(set(mine) ^ set(theirs)))
    changed = 0
    for name in theirs:
        assert mine[name].shape == theirs[name].shape, name
        changed += not torch.equal(mine[name], theirs[name])
    assert changed > 0, "no weight changed: the export is not the trained model"
    config = json.load(open(f"{exported}/config.json"))
    assert config["model_type"] == family, config["model_type"]
    tokens = torch.randint(0, config["vocab_size"], (2, 10))
    forward = ref.gpt2_forward if family == "gpt2" else ref.llama_forward
    if family == "gpt2" and not config.get("tie_word_embeddings", True):
        raise SystemExit("expected a tied GPT-2 head")
    with torch.no_grad():
        logits = forward(mine, config, tokens)
    assert torch.isfinite(logits).all()
    print(f"{exported}: {len(mine)} tensors, {changed} changed by training, "
          f"reference forward pass finite, logits {tuple(logits.shape)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
