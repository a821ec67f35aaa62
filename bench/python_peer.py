#!/usr/bin/env python3
"""The Python peer of bench/learner_bench.cc: the same MetaRM step, PPO update
and KV-cache generation written in Python PyTorch (Debian's python3-torch,
the same LibTorch 1.13.1 underneath), same shapes, same threads. Prints the
same JSON lines, names prefixed "python_".

    python_peer.py --sizes 128,512 --layers 4 --seq 128 --batch 16 --threads N
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F


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
        t = tokens.shape[1]
        x = self.tok(tokens) + self.pos(torch.arange(past, past + t))
        keys = past + t
        causal = torch.arange(keys)[None, :] <= torch.arange(past, keys)[:, None]
        bias = torch.zeros(t, keys).masked_fill(~causal, float("-inf"))
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
    upper = torch.ones(k, k, dtype=torch.bool).triu(1)
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
        last = torch.zeros(len(seqs))
        for t in reversed(range(rewards.shape[1])):
            nxt = old_values[:, t + 1] if t + 1 < rewards.shape[1] else 0
            delta = rewards[:, t] + gamma * nxt - old_values[:, t]
            last = delta + gamma * lam * last
            adv[:, t] = last
        returns = adv + old_values
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    order = torch.randperm(len(seqs))
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


def repeat_seconds(call, repeats):
    """The seconds of `repeats` calls after one untimed warm-up."""
    call()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return seconds


def emit(name, samples, unit, shapes):
    """One figure as bench/figure.h prints it: the median, its range and
    every sample."""
    median = statistics.median(samples)
    print(json.dumps({"name": "python_" + name, "value": median,
                      "median": median, "min": min(samples),
                      "max": max(samples), "repeats": len(samples),
                      "samples": samples, "unit": unit, "shapes": shapes,
                      "check": "ok"}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="128,512")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--new_tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--profile", default="",
                        help="trace one METARM step at the first size to this "
                             "file (Chrome JSON) and run nothing else")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(7)
    seq, batch, k = args.seq, args.batch, 4
    for d in (int(x) for x in args.sizes.split(",")):
        shape = (259, d, args.layers, max(1, d // 64), seq + 160)
        shapes = {"d_model": d, "layers": args.layers, "seq": seq, "batch": batch,
                  "threads": torch.get_num_threads()}
        chosen = torch.randint(3, 259, (batch, seq))
        rejected = torch.randint(3, 259, (batch, seq))
        meta = torch.randint(3, 259, (batch // 2 * k, seq))
        reward = ScalarModel(*shape)
        opt = torch.optim.AdamW(reward.parameters(), lr=1e-3, weight_decay=0.0)
        if args.profile:
            metarm_step(reward, opt, chosen, rejected, meta, k)
            with torch.autograd.profiler.profile() as prof:
                metarm_step(reward, opt, chosen, rejected, meta, k)
            prof.export_chrome_trace(args.profile)
            return
        emit("vanilla_rm_step_seconds",
             repeat_seconds(lambda: vanilla_step(reward, opt, chosen, rejected),
                          args.repeats), "s (this machine)", shapes)
        emit("metarm_step_seconds",
             repeat_seconds(lambda: metarm_step(reward, opt, chosen, rejected, meta, k),
                          args.repeats), "s (this machine)", shapes)
        policy, critic = LanguageModel(*shape), ScalarModel(*shape)
        popt = torch.optim.AdamW(policy.parameters(), lr=1e-5, weight_decay=0.0)
        copt = torch.optim.AdamW(critic.parameters(), lr=1e-5, weight_decay=0.0)
        seqs = torch.randint(3, 259, (batch, seq))
        prompt = seq // 2
        with torch.no_grad():
            old_lp = response_logprobs(policy, seqs, prompt)[0]
            scores = critic.score(seqs)
        emit("ppo_update_seconds",
             repeat_seconds(lambda: ppo_update(policy, critic, popt, copt, seqs, prompt,
                                             old_lp, scores, batch // 2),
                          args.repeats), "s (this machine)", shapes)
        policy.eval()
        prompts = torch.randint(3, 259, (batch, 16))
        seconds = repeat_seconds(lambda: generate(policy, prompts, args.new_tokens),
                                 args.repeats)
        emit("generation_kv_cache_tokens_per_second",
             [batch * args.new_tokens / s for s in seconds], "tokens/s",
             dict(shapes, new_tokens=args.new_tokens, prompt_tokens=16))


if __name__ == "__main__":
    main()
