#!/usr/bin/env python3
"""The Python peer of bench/learner_bench.cc: the same MetaRM step, PPO update
and KV-cache generation written in Python PyTorch (Debian's python3-torch,
the same LibTorch 1.13.1 underneath), same shapes, same threads.

    python_peer.py --serve --sizes 128,512 --layers 4 --seq 128 --batch 16 --threads N
    python_peer.py --sizes 128,512 ...        # alone: JSON lines, names prefixed "python_"
    python_peer.py --device cuda:0 --precision bf16 --hf_generate ...

bench/learner_bench.cc --python_peer starts it with --serve and the same
shapes, and the two take turns call by call: C++ times one step, then asks
the peer to time the same step once (serve()), so each Python/C++ ratio is
one pair of timings taken back to back, and the ratio's spread is the
spread of those pairs.

On a GPU (deploy/gpu_check.sh) the steps run in eager mode under autocast
(bf16 with float32 weights, as metarm's bf16), every timing waits for the
device, and --hf_generate adds Hugging Face `generate()` (greedy, KV cache)
on a GPT-2 of the same shape in bf16, where the transformers package is
installed; where it is not, the figure's check names the reason.
"""
import argparse
import contextlib
import json
import math
import statistics
import sys
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


def repeat_seconds(call, repeats, warm_up=True):
    """The seconds of `repeats` calls after one untimed warm-up, the device
    drained before each clock reading."""
    if warm_up:
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


class HfGenerate:
    """Hugging Face generate() on a GPT-2 of the benchmark's shape: greedy,
    with its KV cache, exactly --new_tokens new tokens, in bf16 weights where
    --precision is bf16 (as the popular trainers generate without vLLM).
    The weights are a fresh initialisation: tokens/s does not depend on
    their values when every row generates the same number of tokens.
    `unavailable` says why it cannot run (transformers not installed)."""

    def __init__(self, args, d):
        self.unavailable = ""
        try:
            import transformers
        except ImportError:
            self.unavailable = "the transformers package is not installed"
            return
        self.version = transformers.__version__
        config = transformers.GPT2Config(
            vocab_size=args.vocab, n_embd=d, n_layer=args.layers,
            n_head=max(1, d // 64), n_positions=args.prompt_tokens + args.new_tokens)
        self.model = transformers.GPT2LMHeadModel(config).to(DEVICE).eval()
        if args.precision == "bf16":
            self.model = self.model.to(torch.bfloat16)
        self.prompts = torch.randint(3, args.vocab,
                                     (args.generation_batch, args.prompt_tokens),
                                     device=DEVICE)
        self.new_tokens = args.new_tokens

    def __call__(self):
        with torch.no_grad():
            self.model.generate(self.prompts, attention_mask=torch.ones_like(self.prompts),
                                do_sample=False, max_new_tokens=self.new_tokens,
                                min_new_tokens=self.new_tokens, pad_token_id=0)


class PeerAtSize:
    """The models and batches of one d_model and one call of each step, as
    bench/learner_bench.cc builds and times them: `calls[name]()` runs one
    step; names are the C++ figures' ("metarm_step", "vanilla_rm_step",
    "ppo_update", "generation", "hf_generate")."""

    def __init__(self, args, d):
        bf16 = args.precision == "bf16"
        seq, batch, k, vocab = args.seq, args.batch, 4, args.vocab
        tokens = lambda rows, length: torch.randint(3, vocab, (rows, length), device=DEVICE)
        shape = (vocab, d, args.layers, max(1, d // 64),
                 max(seq + 160, args.prompt_tokens + args.new_tokens))
        self.shapes = {"d_model": d, "layers": args.layers, "vocab": vocab, "seq": seq,
                       "batch": batch, "precision": args.precision,
                       "device": str(DEVICE), "threads": torch.get_num_threads()}
        self.generation_shapes = dict(self.shapes, new_tokens=args.new_tokens,
                                      prompt_tokens=args.prompt_tokens,
                                      batch=args.generation_batch)
        self.generated_tokens = args.generation_batch * args.new_tokens
        chosen, rejected = tokens(batch, seq), tokens(batch, seq)
        meta = tokens(batch // 2 * k, seq)
        self.reward = ScalarModel(*shape).to(DEVICE)
        opt = torch.optim.AdamW(self.reward.parameters(), lr=1e-3, weight_decay=0.0)
        self.metarm_once = lambda: metarm_step(self.reward, opt, chosen, rejected, meta, k)
        policy = LanguageModel(*shape).to(DEVICE)
        critic = ScalarModel(*shape).to(DEVICE)
        popt = torch.optim.AdamW(policy.parameters(), lr=1e-5, weight_decay=0.0)
        copt = torch.optim.AdamW(critic.parameters(), lr=1e-5, weight_decay=0.0)
        seqs = tokens(batch, seq)
        prompt = seq // 2
        with torch.no_grad(), autocast(bf16):
            old_lp = response_logprobs(policy, seqs, prompt)[0].float()
            scores = critic.score(seqs).float()
        prompts = tokens(args.generation_batch, args.prompt_tokens)

        def under_autocast(call):
            def run():
                with autocast(bf16):
                    call()
            return run


        self.calls = {
            "vanilla_rm_step": under_autocast(
                lambda: vanilla_step(self.reward, opt, chosen, rejected)),
            "metarm_step": under_autocast(self.metarm_once),
            "ppo_update": under_autocast(
                lambda: ppo_update(policy, critic, popt, copt, seqs, prompt,
                                   old_lp, scores, batch // 2)),
            "generation": under_autocast(
                lambda: generate(policy, prompts, args.new_tokens)),
        }
        self.hf = HfGenerate(args, d) if args.hf_generate else None
        if self.hf and not self.hf.unavailable:
            self.calls["hf_generate"] = self.hf


def serve(args):
    """Times one step per request line "STEP D_MODEL" on stdin and replies
    with its seconds on a line of its own, so that bench/learner_bench.cc
    (--python_peer) can take turns with it call by call: the first request of
    a step at a size runs one untimed warm-up call first. Replies
    "unavailable REASON" for a step this peer cannot run, "error REASON" for
    a request it does not understand. Ends at the end of its input."""
    print(f"ready torch {torch.__version__} threads {torch.get_num_threads()}", flush=True)
    at_size, warm = None, set()
    for line in sys.stdin:
        words = line.split()
        if len(words) != 2 or not words[1].isdigit():
            print(f"error expected STEP D_MODEL, got {line.strip()!r}", flush=True)
            continue
        step, d = words[0], int(words[1])
        if at_size is None or at_size.shapes["d_model"] != d:
            at_size = None  # one size's models at a time
            at_size = PeerAtSize(args, d)
        if step == "hf_generate" and at_size.hf and at_size.hf.unavailable:
            print(f"unavailable {at_size.hf.unavailable}", flush=True)
            continue
        call = at_size.calls.get(step)
        if call is None:
            print(f"error no step {step!r} (--hf_generate not given?)", flush=True)
            continue
        if (step, d) not in warm:
            call()
            warm.add((step, d))
        print(repr(repeat_seconds(call, 1, warm_up=False)[0]), flush=True)


def run_alone(args):
    """Every step at every size, `--repeats` timings each, as JSON figure
    lines (without the C++ benchmark to pair with)."""
    for d in (int(x) for x in args.sizes.split(",")):
        at_size = PeerAtSize(args, d)
        for step in ("vanilla_rm_step", "metarm_step", "ppo_update"):
            emit(step + "_seconds", repeat_seconds(at_size.calls[step], args.repeats),
                 "s (this machine)", at_size.shapes)
        seconds = repeat_seconds(at_size.calls["generation"], args.repeats)
        emit("generation_kv_cache_tokens_per_second",
             [at_size.generated_tokens / s for s in seconds], "tokens/s",
             at_size.generation_shapes)
        if at_size.hf and at_size.hf.unavailable:
            emit("hf_generate_tokens_per_second", [], "tokens/s",
                 at_size.generation_shapes, "not measured: " + at_size.hf.unavailable)
        elif at_size.hf:
            seconds = repeat_seconds(at_size.calls["hf_generate"], args.repeats)
            emit("hf_generate_tokens_per_second",
                 [at_size.generated_tokens / s for s in seconds], "tokens/s",
                 dict(at_size.generation_shapes, transformers=at_size.hf.version))


def profile(args, path):
    """One METARM step at the first size (after a warm-up) under the
    autograd profiler, as a Chrome trace."""
    at_size = PeerAtSize(args, int(args.sizes.split(",")[0]))
    at_size.metarm_once()
    with torch.autograd.profiler.profile() as prof:
        at_size.metarm_once()
    prof.export_chrome_trace(path)


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
                        help="also time Hugging Face generate() (see HfGenerate)")
    parser.add_argument("--serve", action="store_true",
                        help="time one step per request on stdin (see serve())")
    parser.add_argument("--profile", default="",
                        help="trace one METARM step at the first size to this "
                             "file (Chrome JSON) and run nothing else")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    global DEVICE
    DEVICE = torch.device(args.device)
    args.generation_batch = args.generation_batch or args.batch
    torch.manual_seed(7)
    if args.profile:
        profile(args, args.profile)
    elif args.serve:
        serve(args)
    else:
        run_alone(args)


if __name__ == "__main__":
    main()
