"""Loading time and memory: how long reading and preprocessing a data set takes, and what a training run holds.

    python -m benchmarks.bench_load [--datapath ../shared/data] [--repeats 5] [--epochs 5]

For each data set: the median wall-clock of `load_data` (files → normalised,
resampled tensors; the data already on disk) over --repeats runs, interleaved
between the data sets; then the peak resident memory (ru_maxrss) of a default
`python main.py` training run of --epochs epochs in a child process, without
TensorBoard. Not a test: both depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from deepnag.data.batches import load_data

DATASETS = ("dollar-gds", "jk2017-kinect")


def peak_memory_mb(dataset: str, datapath: str, epochs: int) -> float:
    """Peak resident memory of a default training run of `epochs` epochs, in MB (a fresh child process)."""
    with tempfile.TemporaryDirectory() as logdir:
        code = ("import resource, sys, main; status = main.main(sys.argv[1:]); "
                "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(status)")
        done = subprocess.run([sys.executable, "-c", code, f"--dataset={dataset}", f"--datapath={datapath}",
                               f"--epochs={epochs}", f"--logdir={logdir}", "--use-tensorboard=0"],
                              cwd=ROOT, capture_output=True, text=True, check=True)
    line = next(t for t in done.stdout.splitlines() if t.startswith("PEAK_KB"))
    return int(line.split()[1]) / 1024  # Linux reports kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; data at {args.datapath}")
    times: dict[str, list[float]] = {name: [] for name in DATASETS}
    for name in DATASETS:  # warm-up: file cache, imports
        load_data(name, args.datapath)
    for _ in range(args.repeats):
        for name in DATASETS:
            started = time.perf_counter()
            load_data(name, args.datapath)
            times[name].append(time.perf_counter() - started)
    print(f"\n{'data set':16s} {'load + preprocess (median s)':>30s} {f'peak RSS, {args.epochs} epochs (MB)':>30s}")
    for name in DATASETS:
        peak = peak_memory_mb(name, args.datapath, args.epochs)
        print(f"{name:16s} {statistics.median(times[name]):30.2f} {peak:30.0f}")


if __name__ == "__main__":
    main()
