"""$P distances per second: the compiled kernel against the NumPy lock-step version it replaced, and bounds (medians).

    python -m benchmarks.bench_dollar_p --datapath=../shared/data --repeats 5

All on real MMG samples at medium speed, n = 32: writer 10's as queries, writer
41's as templates.
- kernel against NumPy: the full (Q, M) distance matrix; the two must agree.
- bounded against full: distances to writer 12's samples, each query bounded by
  its nearest of writer 41's (what the held-out study's rows need, the real
  templates coming first); the 1-NN over both must agree.
- nearest against full: 1-NN of each query among writer 41's (`predict`).
Runs alternate A, B, A, B … so that a noisy shared machine affects both alike.
The NumPy baseline is kept here, in its method as it was, only as the yardstick.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from deepnag.data import load_raw, subjects
from deepnag.recognition.dollar_p import DollarP, starts_of

ROOT = Path(__file__).resolve().parent.parent


def numpy_distances(queries: np.ndarray, templates: np.ndarray, block: int = 256) -> np.ndarray:
    """The previous implementation: all starts and directions of 256 pairs in lock step, one NumPy step per point."""
    num_q, num_t, n = len(queries), len(templates), queries.shape[1]
    starts = starts_of(n)
    step = int(starts[1])
    pair_q, pair_t = np.divmod(np.arange(num_q * num_t), num_t)
    out = np.empty(num_q * num_t)
    for first in range(0, len(out), block):
        a, b = queries[pair_q[first:first + block]], templates[pair_t[first:first + block]]
        num = len(a)
        costs = np.empty((2, 2 * n, num, n))
        costs[0, :n] = np.linalg.norm(a.transpose(1, 0, 2)[:, :, None] - b[None], axis=-1)
        costs[1, :n] = costs[0, :n].transpose(2, 1, 0)
        costs[:, n:] = costs[:, :n]
        candidates = np.empty((2, len(starts), num, n))
        runs = candidates.size // n
        flat = candidates.reshape(runs, n)
        taken = np.zeros(candidates.shape)
        total = np.zeros(runs)
        rows = np.arange(runs) * n
        for k in range(n):
            np.add(costs[:, k:k + n:step], taken, out=candidates)
            nearest = rows + flat.argmin(axis=1)
            total += (1.0 - k / n) * candidates.ravel()[nearest]
            taken.ravel()[nearest] = np.inf
        out[first:first + block] = total.reshape(runs // num, num).min(axis=0)
    return out.reshape(num_q, num_t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, default=200, help="queries and templates each")
    args = parser.parse_args()
    real = load_raw("mmg", args.datapath)
    recogniser = DollarP()
    queries, templates, added = (recogniser.features(subjects.keep(real, [writer]).sequences[:args.samples])
                                 for writer in ("10", "41", "12"))
    pairs = len(queries) * len(templates)
    exact = recogniser.distances(queries, templates)  # compiles (or loads the cache) outside the timings
    np.testing.assert_allclose(exact, numpy_distances(queries, templates), rtol=1e-12)
    bounds = exact.min(axis=1)
    whole = np.concatenate([exact, recogniser.distances(queries, added)], axis=1)
    cut = np.concatenate([exact, recogniser.bounded_distances(queries, added, bounds)], axis=1)
    np.testing.assert_array_equal(cut.argmin(axis=1), whole.argmin(axis=1))
    np.testing.assert_array_equal(recogniser.nearest(queries, templates), exact.argmin(axis=1))
    contests = {
        "kernel against NumPy": (lambda: recogniser.distances(queries, templates),
                                 lambda: numpy_distances(queries, templates)),
        "bounded against full": (lambda: recogniser.bounded_distances(queries, added, bounds),
                                 lambda: recogniser.distances(queries, added)),
        "nearest against full": (lambda: recogniser.nearest(queries, templates),
                                 lambda: recogniser.distances(queries, templates)),
    }
    print(f"{pairs} pairs a run (n = 32), medians of {args.repeats} interleaved runs; same answers:")
    for name, (first, second) in contests.items():
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(args.repeats):
            for run, kept in ((first, times[0]), (second, times[1])):
                started = time.perf_counter()
                run()
                kept.append(time.perf_counter() - started)
        fast, slow = statistics.median(times[0]), statistics.median(times[1])
        print(f"  {name}: {pairs / fast:,.0f} against {pairs / slow:,.0f} pairs/s "
              f"({fast:.2f} s against {slow:.2f} s): {slow / fast:.1f} times faster")

if __name__ == "__main__":
    main()
