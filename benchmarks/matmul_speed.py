"""How fast do torch and NumPy multiply the toy recipes' matrices on this CPU?

Usage (from the repository root):
    python benchmarks/matmul_speed.py [--threads 1 2] [--repeats 2000] [--rounds 3]

A `grid` step multiplies small matrices: a batch of 48 (96 when D sees real and fake rows
together) by 128 x 128 weights, forward and backward. On a CPU these products are ~40 % of
the step (torch profiler), the rest being per-operation overhead. torch's CPU wheels call
Intel's MKL for them, NumPy's call OpenBLAS. This script times the same three products
through both libraries, interleaved in one process, at each thread count (both libraries
get the same count), so a drift of a shared machine hits both. On the course's 2-core AMD
EPYC VM (2026-11-28), at one thread the two took about the same time (torch 0.90-1.25x
NumPy's, 50-69 µs for the 96 x 128 by 128 x 128 product); at two threads NumPy's OpenBLAS
got faster (29-70 µs) and torch's MKL did not (44-110 µs, no better than at one thread),
one reason a second torch thread does not speed up a toy step. torch has no switch to
another BLAS.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits


def _microseconds(fn, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts to time (default: 1 2)")
    parser.add_argument("--repeats", type=int, default=2000, help="products per timing")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()
    rows, width = 96, 128
    gen = torch.Generator().manual_seed(0)
    x, w, g = (torch.randn(rows, width, generator=gen), torch.randn(width, width, generator=gen),
               torch.randn(rows, width, generator=gen))
    xn, wn, gn = x.numpy(), w.numpy(), g.numpy()
    cases = {  # the three products of a Linear layer's forward and backward
        "forward": (lambda: torch.mm(x, w.t()), lambda: xn @ wn.T),
        "weights": (lambda: torch.mm(g.t(), x), lambda: gn.T @ xn),
        "inputs": (lambda: torch.mm(g, w), lambda: gn @ wn),
    }
    print(f"{rows} x {width} by {width} x {width}, float32; torch {torch.__version__} (MKL), "
          f"NumPy {np.__version__}; µs a product, and torch's time over NumPy's")
    for round_ in range(args.rounds):
        for threads in args.threads:
            torch.set_num_threads(threads)
            with threadpool_limits(limits=threads):  # NumPy's BLAS
                cells = []
                for name, (torch_fn, numpy_fn) in cases.items():
                    _microseconds(torch_fn, 100)  # warm-up at this thread count
                    _microseconds(numpy_fn, 100)
                    t = _microseconds(torch_fn, args.repeats)
                    n = _microseconds(numpy_fn, args.repeats)
                    cells.append(f"{name} {t:5.1f} / {n:5.1f} ({t / n:.2f}x)")
            print(f"round {round_ + 1}, {threads} thread(s): " + "; ".join(cells))

if __name__ == "__main__":
    main()
