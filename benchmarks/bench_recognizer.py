"""How long one fit of the learned recogniser takes, on one torch thread against two (interleaved, medians).

    python -m benchmarks.bench_recognizer --repeats 3

The training set is the README's: two dollar-gds writers (s06, s08) plus 160
chained variants per class. Fits alternate 1 thread, 2 threads, 1, 2 … so that a
noisy shared machine affects both alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from deepnag.data import chain, load_raw, subjects
from deepnag.recognition import gru_recognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    seen = subjects.keep(load_raw("dollar-gds", args.datapath), ["s06", "s08"])
    added, labels = chain.per_class(seen.sequences, seen.labels, 160, np.random.default_rng(0),
                                    len(seen.class_names))
    x = [*seen.sequences, *added]
    y = np.concatenate([seen.labels, labels])
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for threads in (1, 2):
            started = time.perf_counter()
            gru_recognizer.GRURecognizer(random_state=0, threads=threads).fit(x, y)
            times[threads].append(time.perf_counter() - started)
    print(f"{len(x)} training samples, {gru_recognizer.STEPS} steps: one fit took, median of {args.repeats}: "
          f"{statistics.median(times[1]):.1f} s on 1 thread, {statistics.median(times[2]):.1f} s on 2 threads "
          f"(all: 1 thread {[round(t, 1) for t in times[1]]}, 2 threads {[round(t, 1) for t in times[2]]})")


if __name__ == "__main__":
    main()
