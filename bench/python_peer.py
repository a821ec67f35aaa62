#!/usr/bin/env python3
"""The Python peer of bench/learner_bench.cc: the same MetaRM step, PPO update
and KV-cache generation written in Python PyTorch (Debian's python3-torch,
the same LibTorch 1.13.1 underneath), same shapes, same threads. Prints the
same JSON lines, names prefixed "python_".

    python_peer.py --sizes 128,512 --layers 4 --seq 128 --batch 16 --threads N
    python_peer.py --device cuda:0 --precision bf16 --hf_generate ...

On a GPU (deploy/gpu_check.sh) the steps run in eager mode under autocast
(bf16 with float32 weights, as metarm's bf16), every timing waits for the
device, and --hf_generate adds Hugging Face `generate()` (greedy, KV cache)
on a GPT-2 of the same shape in bf16, where the transformers package is
installed; it prints a figure whose check names the reason where it is not.
"""
import argparse
import contextlib
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

DEVICE = torch.device("cpu")  # set once by main() from --device


class Block(torch.nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.qkv, self.out = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d)
        self.up, self.down = torch.nn.Linear(d, 4 * d), torch.nn.Linear(4 * d, d)

    def forward(self, x, bias, cache=None):
        b, t, d = x.shape
        h, hd = self.heads, d // self.heads
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, h, hd).permute(2, 0, 3, 1, 4)
        if cache is not None:
            if cache:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[:] = [k, v]
        scores = q @ k.transpose(-2, -1) / math.sqrt(hd) + bias
        a = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.out(a)
        return x + self.down(F.gelu(self.up(self.ln2(x))))


class Trunk(torch.nn.Module):
    def __init__(self, vocab, d, layers, heads, positions):
        super().__init__()
        self.tok = torch.nn.Embedding(vocab, d)
        self.pos = torch.nn.Embedding(positions, d)
        self.blocks = torch.nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln = torch.nn.LayerNorm(d)

    def forward(self, tokens, caches=None, past=0):
        t, on = tokens.shape[1], tokens.device
        x = self.tok(tokens) + self.pos(torch.arange(past, past + t, device=on))
        keys = past + t
        causal = (torch.arange(keys, device=on)[None, :]
                  <= torch.arange(past, keys, device=on)[:, None])
        bias = torch.zeros(t, keys, device=on).masked_fill(~causal, float("-inf"))
        for i, block in enumerate(self.blocks):
            x = block(x, bias, None if caches is None else caches[i])
        return self.ln(x)


class LanguageModel(torch.nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.trunk = Trunk(*shape)
        self.head = torch.nn.Linear(shape[1], shape[0], bias=False)

    def forward(self, tokens, caches=None, past=0):
        return self.head(self.trunk(tokens, caches, past))


class ScalarModel(torch.nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.trunk = Trunk(*shape)
        self.head = torch.nn.Linear(shape[1], 1)

    def values(self, tokens):
        return self.head(self.trunk(tokens)).squeeze(-1)

    def score(self, tokens):
        return self.values(tokens)[:, -1]


def bradley_terry(chosen, rejected):
    return -F.logsigmoid(chosen - rejected).mean()


def difference_objective(scores):
    """J: the mean absolute gap between responses of one prompt."""
    k = scores.shape[1]
    upper = torch.ones(k, k, dtype=torch.bool, device=scores.device).triu(1)
    return (scores[:, :, None] - scores[:, None, :]).abs()[:, upper].mean()


def metarm_step(model, optimizer, chosen, rejected, meta, k, eta=0.1):
    params = [p for p in model.parameters()]
    j = difference_objective(model.score(meta).view(-1, k))
    grad_j = torch.autograd.grad(j, params)
    backup = [p.detach().clone() for p in params]
    with torch.no_grad():
        for p, g in zip(params, grad_j):
            p.add_(g, alpha=eta)
        difference_objective(model.score(meta).view(-1, k))  # J at θ'
    scores = model.score(torch.cat([chosen, rejected]))
    loss = bradley_terry(scores[: len(chosen)], scores[len(chosen):])
    grad_l = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, b in zip(params, backup):
            p.copy_(b)
    for p, g in zip(params, grad_l):
        p.grad = g.detach().clone()
    optimizer.step()
    with torch.no_grad():
        difference_objective(model.score(meta).view(-1, k))  # J after


def vanilla_step(model, optimizer, chosen, rejected):
    optimizer.zero_grad()
    scores = model.score(torch.cat([chosen, rejected]))
    bradley_terry(scores[: len(chosen)], scores[len(chosen):]).backward()
    optimizer.step()


def response_logprobs(policy, sequences, prompt):
    logits = policy(sequences)[:, prompt - 1:-1]
    log_probs = torch.log_softmax(logits, -1)
    chosen = log_probs.gather(2, sequences[:, prompt:, None]).squeeze(2)
    return chosen, -(log_probs.exp() * log_probs).sum(-1)


def ppo_update(policy, critic, popt, copt, seqs, prompt, old_lp, scores, mb,
               clip=0.2, gamma=1.0, lam=0.95):
    with torch.no_grad():
        old_values = critic.values(seqs)[:, prompt - 1:-1]
        rewards = torch.zeros_like(old_lp)
        rewards[:, -1] = scores
        adv = torch.zeros_like(rewards)
        last = torch.zeros(len(seqs), device=seqs.device)
        for t in reversed(range(rewards.shape[1])):
            nxt = old_values[:, t + 1] if t + 1 < rewards.shape[1] else 0
            delta = rewards[:, t] + gamma * nxt - old_values[:, t]
            last = delta + gamma * lam * last
            adv[:, t] = last
        returns = adv + old_values
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    order = torch.randperm(len(seqs), device=seqs.device)
    for begin in range(0, len(seqs), mb):
        rows = order[begin:begin + mb]
        popt.zero_grad()
        copt.zero_grad()
        lp, entropy = response_logprobs(policy, seqs[rows], prompt)
        ratio = (lp - old_lp[rows]).exp()
        policy_loss = -torch.min(ratio * adv[rows],
                                 ratio.clamp(1 - clip, 1 + clip) * adv[rows]).mean()
        values = critic.values(seqs[rows])[:, prompt - 1:-1]
        value_loss = 0.5 * (values - returns[rows]).pow(2).mean()
        (policy_loss - 0.01 * entropy.mean() + value_loss).backward()
        popt.step()
        copt.step()


def generate(policy, prompts, new_tokens):
    with torch.no_grad():
        caches = [[] for _ in policy.trunk.blocks]
        logits = policy(prompts, caches)[:, -1]
        tokens, past = prompts, prompts.shape[1]
        for step in range(new_tokens):
            nxt = logits.argmax(-1, keepdim=True)
            tokens = torch.cat([tokens, nxt], 1)
            if step + 1 == new_tokens:
                break
            logits = policy(nxt, caches, past)[:, -1]
            past += 1
    return tokens


def synchronize():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


def repeat_seconds(call, repeats):
    """The seconds of `repeats` calls after one untimed warm-up, the device
    drained before each clock reading."""
    call()
    seconds = []
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        call()
        synchronize()
        seconds.append(time.perf_counter() - start)
    return seconds


def emit(name, samples, unit, shapes, check="ok"):
    """One figure as bench/figure.h prints it: the median, its range and
    every sample."""
    median = statistics.median(samples) if samples else 0.0
    print(json.dumps({"name": "python_" + name, "value": median,
                      "median": median, "min": min(samples, default=0.0),
                      "max": max(samples, default=0.0), "repeats": len(samples),
                      "samples": samples, "unit": unit, "shapes": shapes,
                      "check": check}), flush=True)


def autocast(bf16):
    """bf16 compute with float32 weights where asked (metarm's precision:
    BF16), nothing otherwise."""
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=DEVICE.type, dtype=torch.bfloat16)


def hf_generate(args, shapes):
    """Hugging Face generate() on a GPT-2 of the benchmark's shape: greedy,
    with its KV cache, exactly --new_tokens new tokens, in bf16 weights where
    --precision is bf16 (as the popular trainers generate without vLLM).
    The weights are a fresh initialisation: tokens/s does not depend on
    their values when every row generates the same number of tokens."""
    shapes = dict(shapes, new_tokens=args.new_tokens,
                  prompt_tokens=args.prompt_tokens, batch=args.generation_batch)
    try:
        import transformers
    except ImportError:
        emit("hf_generate_tokens_per_second", [], "tokens/s", shapes,
             "not measured: the transformers package is not installed")
        return
    d = shapes["d_model"]
    config = transformers.GPT2Config(
        vocab_size=args.vocab, n_embd=d, n_layer=args.layers,
        n_head=max(1, d // 64), n_positions=args.prompt_tokens + args.new_tokens)
    model = transformers.GPT2LMHeadModel(config).to(DEVICE).eval()
    if args.precision == "bf16":
        model = model.to(torch.bfloat16)
    prompts = torch.randint(3, args.vocab, (args.generation_batch, args.prompt_tokens),
                            device=DEVICE)
    mask = torch.ones_like(prompts)

    def run():
        with torch.no_grad():
            model.generate(prompts, attention_mask=mask, do_sample=False,
                           max_new_tokens=args.new_tokens,
                           min_new_tokens=args.new_tokens, pad_token_id=0)

    seconds = repeat_seconds(run, args.repeats)
    emit("hf_generate_tokens_per_second",
         [args.generation_batch * args.new_tokens / s for s in seconds],
         "tokens/s", dict(shapes, transformers=transformers.__version__))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="128,512")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--new_tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--vocab", type=int, default=259)
    parser.add_argument("--prompt_tokens", type=int, default=16)
    parser.add_argument("--generation_batch", type=int, default=0,
                        help="sequences generated at once; 0: --batch")
    parser.add_argument("--hf_generate", action="store_true",
                        help="also time Hugging Face generate() (see above)")
    parser.add_argument("--profile", default="",
                        help="trace one METARM step at the first size to this "
                             "file (Chrome JSON) and run nothing else")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    global DEVICE
    DEVICE = torch.device(args.device)
    args.generation_batch = args.generation_batch or args.batch
    bf16 = args.precision == "bf16"
    torch.manual_seed(7)
    seq, batch, k, vocab = args.seq, args.batch, 4, args.vocab
    tokens = lambda rows, length: torch.randint(3, vocab, (rows, length), device=DEVICE)
    for d in (int(x) for x in args.sizes.split(",")):
        shape = (vocab, d, args.layers, max(1, d // 64),
                 max(seq + 160, args.prompt_tokens + args.new_tokens))
        shapes = {"d_model": d, "layers": args.layers, "vocab": vocab, "seq": seq,
                  "batch": batch, "precision": args.precision,
                  "device": str(DEVICE), "threads": torch.get_num_threads()}
        chosen, rejected = tokens(batch, seq), tokens(batch, seq)
        meta = tokens(batch // 2 * k, seq)
        reward = ScalarModel(*shape).to(DEVICE)
        opt = torch.optim.AdamW(reward.parameters(), lr=1e-3, weight_decay=0.0)
        if args.profile:
            metarm_step(reward, opt, chosen, rejected, meta, k)
            with torch.autograd.profiler.profile() as prof:
                metarm_step(reward, opt, chosen, rejected, meta, k)
            prof.export_chrome_trace(args.profile)
            return
        def vanilla():
            with autocast(bf16):
                vanilla_step(reward, opt, chosen, rejected)

        def metarm():
            with autocast(bf16):
                metarm_step(reward, opt, chosen, rejected, meta, k)

        emit("vanilla_rm_step_seconds", repeat_seconds(vanilla, args.repeats),
             "s (this machine)", shapes)
        emit("metarm_step_seconds", repeat_seconds(metarm, args.repeats),
             "s (this machine)", shapes)
        policy = LanguageModel(*shape).to(DEVICE)
        critic = ScalarModel(*shape).to(DEVICE)
        popt = torch.optim.AdamW(policy.parameters(), lr=1e-5, weight_decay=0.0)
        copt = torch.optim.AdamW(critic.parameters(), lr=1e-5, weight_decay=0.0)
        seqs = tokens(batch, seq)
        prompt = seq // 2
        with torch.no_grad(), autocast(bf16):
            old_lp = response_logprobs(policy, seqs, prompt)[0].float()
            scores = critic.score(seqs).float()

        def ppo():
            with autocast(bf16):
                ppo_update(policy, critic, popt, copt, seqs, prompt, old_lp, scores,
                           batch // 2)

        emit("ppo_update_seconds", repeat_seconds(ppo, args.repeats),
             "s (this machine)", shapes)
        policy.eval()
        prompts = tokens(args.generation_batch, args.prompt_tokens)

        def generation():
            with autocast(bf16):
                generate(policy, prompts, args.new_tokens)

        seconds = repeat_seconds(generation, args.repeats)
        emit("generation_kv_cache_tokens_per_second",
             [args.generation_batch * args.new_tokens / s for s in seconds], "tokens/s",
             dict(shapes, new_tokens=args.new_tokens, prompt_tokens=args.prompt_tokens,
                  batch=args.generation_batch))
        if args.hf_generate:
            hf_generate(args, shapes)


if __name__ == "__main__":
    main()
