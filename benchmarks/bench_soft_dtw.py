"""Soft-DTW forward + backward on the loss's workload, ours beside public CPU implementations.

    pip install -r requirements-bench.txt
    python -m benchmarks.bench_soft_dtw [--pairs 512] [--length 64] [--repeats 10] [--openmp-default]

Workload: 512 pairs of 64-step sequences, D = 2 ($1-GDS) and D = 63 (JK2017), float32,
γ = 0.1, squared Euclidean cost, gradient with respect to the first sequence of each
pair (as for the generator's output in the loss). Every implementation computes its
cost from the sequences and runs forward and backward. Every contender runs the
same number of times, interleaved round-robin (A, B, C, A, B, C, …) so that
background load hits all alike; the table shows each one's median and fastest
run, and the speed-up column is a ratio of medians. Every implementation runs under the OpenMP setting of the
project's command line (``deepnag.runtime``); ``--openmp-default`` keeps libgomp's
own. Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from typing import Callable

from deepnag.runtime import configure_openmp

if "--openmp-default" not in sys.argv:  # must precede torch's import: OpenMP reads it when it loads
    configure_openmp()

import torch

from deepnag.loss.soft_dtw_autograd import soft_dtw, soft_dtw_pairs, squared_euclidean_cost


def _peers(gamma: float) -> dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]:
    peers: dict[str, Callable] = {}
    try:
        from tslearn.metrics import SoftDTWLossPyTorch

        peers["tslearn SoftDTWLossPyTorch"] = SoftDTWLossPyTorch(gamma=gamma)
    except ImportError:
        print("(tslearn not installed: pip install -r requirements-bench.txt)")
    try:
        import pysdtw

        peers["pysdtw SoftDTW (cpu)"] = pysdtw.SoftDTW(gamma=gamma, use_cuda=False)
    except ImportError:
        print("(pysdtw not installed: pip install -r requirements-bench.txt)")
    return peers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=512)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 63])
    parser.add_argument("--gamma", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=10, help="timed runs of every implementation")
    parser.add_argument("--openmp-default", action="store_true",
                        help="keep libgomp's default spin of idle threads instead of the command line's setting")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    P, n = args.pairs, args.length
    cells = P * n * n
    print(f"soft-DTW forward+backward, {P} pairs of {n}x{n}, float32, gamma={args.gamma}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}, GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', 'default')}, "
          f"load {os.getloadavg()[0]:.1f}")

    ours = {
        "deepnag soft_dtw_pairs (fused cost)": lambda x, y: soft_dtw_pairs(x, y, args.gamma),
        "deepnag soft_dtw(squared_euclidean_cost)": lambda x, y: soft_dtw(squared_euclidean_cost(x, y), args.gamma),
    }
    for D in args.dims:
        x = (torch.rand(P, n, D) * 2 - 1).requires_grad_(True)
        y = torch.rand(P, n, D) * 2 - 1
        impls = {**ours, **_peers(args.gamma)}
        times: dict[str, list[float]] = {name: [] for name in impls}

        def step(fn: Callable, x: torch.Tensor = x, y: torch.Tensor = y) -> float:
            x.grad = None
            t0 = time.perf_counter()
            fn(x, y).sum().backward()
            return time.perf_counter() - t0

        for fn in impls.values():  # warm up: compilation, caches, thread pools
            step(fn)
        for _ in range(args.repeats):
            for name, fn in impls.items():
                times[name].append(step(fn))
        medians = {name: statistics.median(t) for name, t in times.items()}
        best_peer = min((m for name, m in medians.items() if name not in ours), default=float("nan"))
        print(f"\nD = {D} ({args.repeats} interleaved runs each)")
        print(f"  {'implementation':42s} {'median ms':>10s} {'best ms':>9s} {'Mcell/s':>9s} {'vs faster peer':>15s}")
        for name, t in times.items():
            print(f"  {name:42s} {medians[name] * 1e3:10.2f} {min(t) * 1e3:9.2f} {cells / medians[name] / 1e6:9.1f} "
                  f"{best_peer / medians[name]:14.1f}x")
    print("\nMcell/s and the speed-up are from the medians.")


if __name__ == "__main__":
    main()
