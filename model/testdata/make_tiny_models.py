#!/usr/bin/env python3
"""Tiny random GPT-2- and Llama-shaped checkpoints in the Hugging Face folder
format, with reference logits from an independent PyTorch forward pass.

    make_tiny_models.py OUT_DIR

writes OUT_DIR/gpt2/ (config.json, model.safetensors in F32, tensor names
without the "transformer." prefix, tied LM head), OUT_DIR/llama/ (grouped-
query attention, rope_theta 500000, BF16 weights in two shards with
model.safetensors.index.json, untied LM head) and OUT_DIR/reference.safetensors
holding the input tokens and each model's logits (also OUT_DIR/qwen2/: q/k/v
biases, tied head; OUT_DIR/llama3/: Llama 3's rope_scaling); and, for the end-to-end job
test, OUT_DIR/gpt2_job, OUT_DIR/llama_job and a byte-level BPE tokenizer in
OUT_DIR/bpe. The forward passes below
follow the published architectures, written here from their definitions;
the C++ loader (model/hf_checkpoint.cc) must match them within 1e-4.
"""
import json
import math
import os
import struct
import sys

import torch

DTYPES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16",
          torch.int64: "I64"}


def write_safetensors(path, tensors):
    """The format by hand: 8-byte header length, JSON header, raw bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        # Raw little-endian bytes through a uint8 view (numpy has no bf16).
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype != torch.int64 \
            else t.numpy().astype("<i8").tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def causal_attention(q, k, v):
    """q [B, H, T, hd], k/v [B, H, T, hd]: softmax(q k^T / sqrt(hd) + causal) v."""
    t = q.shape[2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    future = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
    return torch.softmax(scores.masked_fill(future, float("-inf")), -1) @ v


def gpt2_hidden(w, c, tokens):
    """The trunk's output after the final LayerNorm, [B, T, d]."""
    d, h = c["n_embd"], c["n_head"]
    b, t = tokens.shape
    x = w["wte.weight"][tokens] + w["wpe.weight"][torch.arange(t)]
    ln = lambda x, p: torch.nn.functional.layer_norm(
        x, (d,), w[p + ".weight"], w[p + ".bias"], c["layer_norm_epsilon"])
    conv1d = lambda x, p: x @ w[p + ".weight"] + w[p + ".bias"]  # [in, out]
    for i in range(c["n_layer"]):
        p = f"h.{i}."
        q, k, v = conv1d(ln(x, p + "ln_1"), p + "attn.c_attn").split(d, -1)
        heads = lambda y: y.view(b, t, h, d // h).transpose(1, 2)
        a = causal_attention(heads(q), heads(k), heads(v))
        x = x + conv1d(a.transpose(1, 2).reshape(b, t, d), p + "attn.c_proj")
        m = gelu_tanh(conv1d(ln(x, p + "ln_2"), p + "mlp.c_fc"))
        x = x + conv1d(m, p + "mlp.c_proj")
    return ln(x, "ln_f")


def gpt2_forward(w, c, tokens):
    return gpt2_hidden(w, c, tokens) @ w["wte.weight"].T  # tied head


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def llama3_scaled(inv, scaling):
    """Llama 3's rope_scaling of the inverse frequencies, from its published
    definition (wavelength bands against original_max_position_embeddings)."""
    factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    out = []
    for f in inv.tolist():
        wavelength = 2 * math.pi / f
        if wavelength < old / high:
            out.append(f)
        elif wavelength > old / low:
            out.append(f / factor)
        else:
            smooth = (old / wavelength - low) / (high - low)
            out.append((1 - smooth) * f / factor + smooth * f)
    return torch.tensor(out, dtype=torch.float32)


def rotate(x, positions, theta, scaling=None):
    """Rotary embedding, halves convention: (x1, x2) -> (x1 c - x2 s, x2 c + x1 s)."""
    hd = x.shape[-1]
    inv = theta ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    if scaling:
        inv = llama3_scaled(inv, scaling)
    angles = positions[:, None].float() * inv[None, :]  # [T, hd/2]
    cos, sin = angles.cos(), angles.sin()
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


def llama_forward(w, c, tokens):
    d, h, kv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd = d // h
    b, t = tokens.shape
    positions = torch.arange(t)
    x = w["model.embed_tokens.weight"][tokens]
    # [out, in]; a bias where the model has one (Qwen2's q, k, v)
    lin = lambda x, name: x @ w[name].T + w.get(name.replace(".weight", ".bias"), 0)
    scaling = c.get("rope_scaling")
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        y = rms_norm(x, w[p + "input_layernorm.weight"], c["rms_norm_eps"])
        q = lin(y, p + "self_attn.q_proj.weight").view(b, t, h, hd).transpose(1, 2)
        k = lin(y, p + "self_attn.k_proj.weight").view(b, t, kv, hd).transpose(1, 2)
        v = lin(y, p + "self_attn.v_proj.weight").view(b, t, kv, hd).transpose(1, 2)
        q = rotate(q, positions, c["rope_theta"], scaling)
        k = rotate(k, positions, c["rope_theta"], scaling)
        k, v = k.repeat_interleave(h // kv, 1), v.repeat_interleave(h // kv, 1)
        a = causal_attention(q, k, v).transpose(1, 2).reshape(b, t, d)
        x = x + lin(a, p + "self_attn.o_proj.weight")
        y = rms_norm(x, w[p + "post_attention_layernorm.weight"], c["rms_norm_eps"])
        gate = torch.nn.functional.silu(lin(y, p + "mlp.gate_proj.weight"))
        x = x + lin(gate * lin(y, p + "mlp.up_proj.weight"), p + "mlp.down_proj.weight")
    x = rms_norm(x, w["model.norm.weight"], c["rms_norm_eps"])
    if c.get("tie_word_embeddings"):
        return x @ w["model.embed_tokens.weight"].T
    return lin(x, "lm_head.weight")


def gpt2_weights(c, g):
    d, ff, v, n = c["n_embd"], c["n_inner"], c["vocab_size"], c["n_positions"]
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.1
    w = {"wte.weight": r(v, d), "wpe.weight": r(n, d),
         "ln_f.weight": 1 + r(d), "ln_f.bias": r(d)}
    for i in range(c["n_layer"]):
        p = f"h.{i}."
        w.update({p + "ln_1.weight": 1 + r(d), p + "ln_1.bias": r(d),
                  p + "attn.c_attn.weight": r(d, 3 * d), p + "attn.c_attn.bias": r(3 * d),
                  p + "attn.c_proj.weight": r(d, d), p + "attn.c_proj.bias": r(d),
                  p + "ln_2.weight": 1 + r(d), p + "ln_2.bias": r(d),
                  p + "mlp.c_fc.weight": r(d, ff), p + "mlp.c_fc.bias": r(ff),
                  p + "mlp.c_proj.weight": r(ff, d), p + "mlp.c_proj.bias": r(d)})
    return w


def llama_weights(c, g):
    d, ff, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    kvd = c["num_key_value_heads"] * d // c["num_attention_heads"]
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.1
    w = {"model.embed_tokens.weight": r(v, d), "model.norm.weight": 1 + r(d),
         "lm_head.weight": r(v, d)}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w.update({p + "input_layernorm.weight": 1 + r(d),
                  p + "self_attn.q_proj.weight": r(d, d),
                  p + "self_attn.k_proj.weight": r(kvd, d),
                  p + "self_attn.v_proj.weight": r(kvd, d),
                  p + "self_attn.o_proj.weight": r(d, d),
                  p + "post_attention_layernorm.weight": 1 + r(d),
                  p + "mlp.gate_proj.weight": r(ff, d),
                  p + "mlp.up_proj.weight": r(ff, d),
                  p + "mlp.down_proj.weight": r(d, ff)})
        if c.get("model_type") == "qwen2":
            w.update({p + "self_attn.q_proj.bias": r(d),
                      p + "self_attn.k_proj.bias": r(kvd),
                      p + "self_attn.v_proj.bias": r(kvd)})
    if c.get("tie_word_embeddings"):
        del w["lm_head.weight"]
    # Stored in BF16: the reference computes with the same rounded values.
    return {k: t.to(torch.bfloat16) for k, t in w.items()}


def bytes_to_unicode():
    """GPT-2's byte alphabet: printable bytes are themselves, the rest
    U+0100 onwards in byte order."""
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def write_byte_bpe(folder):
    """A byte-level BPE tokenizer with no merges: byte b is token b and
    <|endoftext|> is 256 (vocabulary 257)."""
    os.makedirs(folder, exist_ok=True)
    vocab = {c: b for b, c in bytes_to_unicode().items()}
    vocab["<|endoftext|>"] = 256
    json.dump(vocab, open(f"{folder}/vocab.json", "w"))
    open(f"{folder}/merges.txt", "w").write("#version: 0.2\n")


def write_job_models(out, g):
    """Models for the end-to-end jobs (tests/pretrained_job_test.sh): the
    GPT-2 with vocab 257 (write_byte_bpe's tokenizer), the Llama with 600
    (also a 600-piece SentencePiece model), 64 positions."""
    gpt2 = {"model_type": "gpt2", "vocab_size": 257, "n_embd": 32,
            "n_layer": 2, "n_head": 4, "n_positions": 64, "n_inner": None,
            "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
    llama = {"model_type": "llama", "vocab_size": 600, "hidden_size": 32,
             "intermediate_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2,
             "max_position_embeddings": 64, "rms_norm_eps": 1e-6,
             "rope_theta": 10000.0, "hidden_act": "silu",
             "tie_word_embeddings": False}
    for name, config, weights in (
            ("gpt2_job", gpt2, gpt2_weights(dict(gpt2, n_inner=128), g)),
            ("llama_job", llama, llama_weights(llama, g))):
        os.makedirs(f"{out}/{name}", exist_ok=True)
        json.dump(config, open(f"{out}/{name}/config.json", "w"), indent=1)
        write_safetensors(f"{out}/{name}/model.safetensors", weights)
    write_byte_bpe(f"{out}/bpe")


def main(out):
    g = torch.Generator().manual_seed(20261127)
    gpt2 = {"model_type": "gpt2", "vocab_size": 64, "n_embd": 32, "n_layer": 2,
            "n_head": 4, "n_positions": 32, "n_inner": 48,
            "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
    llama = {"model_type": "llama", "vocab_size": 64, "hidden_size": 32,
             "intermediate_size": 40, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2,
             "max_position_embeddings": 64, "rms_norm_eps": 1e-6,
             "rope_theta": 500000.0, "hidden_act": "silu",
             "tie_word_embeddings": False}
    tokens = torch.randint(0, 64, (2, 12), generator=g)
    w_gpt2, w_llama = gpt2_weights(gpt2, g), llama_weights(llama, g)
    with torch.no_grad():
        logits_gpt2 = gpt2_forward(w_gpt2, gpt2, tokens)
        logits_llama = llama_forward({k: t.float() for k, t in w_llama.items()},
                                     llama, tokens)
    os.makedirs(f"{out}/gpt2", exist_ok=True)
    os.makedirs(f"{out}/llama", exist_ok=True)
    json.dump(gpt2, open(f"{out}/gpt2/config.json", "w"), indent=1)
    json.dump(llama, open(f"{out}/llama/config.json", "w"), indent=1)
    write_safetensors(f"{out}/gpt2/model.safetensors", w_gpt2)
    names = sorted(w_llama)
    shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    weight_map = {}
    for shard, members in shards.items():
        write_safetensors(f"{out}/llama/{shard}", {n: w_llama[n] for n in members})
        weight_map.update({n: shard for n in members})
    json.dump({"metadata": {}, "weight_map": weight_map},
              open(f"{out}/llama/model.safetensors.index.json", "w"), indent=1)
    # Qwen2 (q/k/v biases, tied head) and Llama 3 (rope_scaling; the
    # original length 64 puts the 4 frequencies of a head of 8 in all three
    # bands: kept, interpolated, divided).
    qwen2 = dict(llama, model_type="qwen2", rope_theta=1000000.0,
                 tie_word_embeddings=True, use_sliding_window=False)
    llama3 = dict(llama, rope_theta=10000.0, rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
        "high_freq_factor": 4.0, "original_max_position_embeddings": 64})
    extra = {}
    for name, config in (("qwen2", qwen2), ("llama3", llama3)):
        weights = llama_weights(config, g)
        with torch.no_grad():
            extra[name + "_logits"] = llama_forward(
                {k: t.float() for k, t in weights.items()}, config, tokens)
        os.makedirs(f"{out}/{name}", exist_ok=True)
        json.dump(config, open(f"{out}/{name}/config.json", "w"), indent=1)
        write_safetensors(f"{out}/{name}/model.safetensors", weights)
    write_safetensors(f"{out}/reference.safetensors",
                      dict({"tokens": tokens.float(), "gpt2_logits": logits_gpt2,
                            "llama_logits": logits_llama}, **extra))
    write_job_models(out, g)


if __name__ == "__main__":
    main(sys.argv[1])
