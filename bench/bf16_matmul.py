#!/usr/bin/env python3
"""LibTorch's CPU matrix product in float32 and bfloat16, one thread, per
operand layout (n: as stored, t: transposed): whether this CPU's bf16 is fast
enough to train in (docs/job_spec.md, precision: BF16), and whether it is
accurate enough: the bf16 product's relative error (Frobenius norm) against
the exact product of the same bf16-rounded inputs, per inner dimension k,
beside what rounding the inputs to bf16 alone costs (the exact product of
the rounded inputs against that of the float32 ones). A product that carries
its sums in float32 adds little to the rounding; one that accumulates in
reduced precision adds error that grows with k.

    /usr/bin/python3 bench/bf16_matmul.py [--n 256] [--repeats 3]
"""
import argparse
import time

import torch


def gflops(x, y, repeats):
    torch.mm(x, y)  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        torch.mm(x, y)
    seconds = (time.perf_counter() - started) / repeats
    return 2 * x.shape[0] * x.shape[1] * y.shape[1] / seconds / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.n}x{args.n}, one thread, GFLOP/s")
    print("| layout | float32 | bfloat16 | bf16 / float32 |")
    print("| --- | --- | --- | --- |")
    a, b = torch.randn(args.n, args.n), torch.randn(args.n, args.n)
    for layout in ("nn", "tn", "nt", "tt"):
        x = a.t() if layout[0] == "t" else a
        y = b.t() if layout[1] == "t" else b
        f32 = gflops(x, y, args.repeats)
        bf16 = gflops(x.bfloat16(), y.bfloat16(), args.repeats)
        print(f"| {layout} | {f32:.2f} | {bf16:.2f} | {bf16 / f32:.3f} |")
    print(f"\n{args.n}x k times k x {args.n} in bfloat16: relative error")
    print("| k | bf16 product against the exact product of its inputs | rounding the inputs alone |")
    print("| --- | --- | --- |")
    for k in (64, 512, 2048):
        x32, y32 = torch.randn(args.n, k), torch.randn(k, args.n)
        x, y = x32.bfloat16(), y32.bfloat16()
        exact = x.double() @ y.double()
        unrounded = x32.double() @ y32.double()
        error = ((x @ y).double() - exact).norm() / exact.norm()
        rounding = (exact - unrounded).norm() / unrounded.norm()
        print(f"| {k} | {error.item():.4f} | {rounding.item():.4f} |")


if __name__ == "__main__":
    main()
