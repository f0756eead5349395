"""--amp bf16 against float32: the loss curve over the same steps, and the time per step.

    python -m benchmarks.bench_amp                                  # 200 steps at the reference's size
    python -m benchmarks.bench_amp --resample-n 16 --batch-size 32  # a smaller problem, for CPUs without bf16

Both runs start from the same weights and see the same batches and the same
noise; only the generator's autocast differs (the loss runs in float32 in both,
as in training). Prints the loss of both every --every steps (mean over those
steps), the largest relative gap, and the seconds per step. On a CPU without
native bfloat16 (no AMX or AVX-512-BF16) autocast is emulated and slow: use a
smaller problem there, or a GPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from deepnag.runtime import configure_openmp

configure_openmp()

import numpy as np
import torch

from deepnag.cli import parse_args
from deepnag.data.batches import load_data
from deepnag.runtime import configure_threads, resolve_device
from deepnag.train.methods import DeepNAGMethod, RandomStreams


def curves(args: argparse.Namespace, data, device: torch.device) -> dict[str, tuple[np.ndarray, float]]:
    """Per-step losses of float32 and bf16 runs from the same weights, batches and noise, and the median seconds
    per step of each; their steps are taken in turn (float32, bf16, float32, …) so that load hits both alike."""
    runs = {}
    for amp in ("none", "bf16"):
        config = dataclasses.replace(parse_args([])[0], amp=amp, batch_size=args.batch_size,
                                     resample_n=args.resample_n)
        torch.manual_seed(args.seed)
        method = DeepNAGMethod(config, data, device)
        streams = RandomStreams.seeded(args.seed, device)
        runs[amp] = (method, streams, config)
    batches = {amp: iter(()) for amp in runs}
    losses: dict[str, list[float]] = {amp: [] for amp in runs}
    seconds: dict[str, list[float]] = {amp: [] for amp in runs}
    for number in range(1, args.steps + 1):
        for amp, (method, streams, config) in runs.items():
            batch = next(batches[amp], None)
            if batch is None:
                batches[amp] = data.batches(config.batch_size, streams.data)
                batch = next(batches[amp])
            started = time.perf_counter()
            metrics = method.step(*batch, streams, number=number)
            losses[amp].append(float(metrics["loss"]))
            seconds[amp].append(time.perf_counter() - started)
    return {amp: (np.array(losses[amp]), statistics.median(seconds[amp])) for amp in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--dataset", default="dollar-gds", choices=("dollar-gds", "jk2017-kinect"))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--every", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--resample-n", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    device = resolve_device(args.device)
    data = load_data(args.dataset, args.datapath, resample_n=args.resample_n).to(device)
    print(f"{args.dataset}, B={args.batch_size}, n={args.resample_n}, {args.steps} steps on {device} "
          f"({threads} threads), torch {torch.__version__}")
    results = curves(args, data, device)
    (f32, f32_seconds), (bf16, bf16_seconds) = results["none"], results["bf16"]
    print(f"{'steps':>12} {'float32':>12} {'bf16':>12} {'relative gap':>14}")
    for start in range(0, args.steps, args.every):
        a, b = f32[start:start + args.every].mean(), bf16[start:start + args.every].mean()
        print(f"{start + 1:>5}-{start + args.every:<6} {a:12.3f} {b:12.3f} {abs(b - a) / abs(a):14.3%}")
    gap = np.abs(bf16 - f32) / np.abs(f32)
    print(f"largest per-step relative gap {gap.max():.2%} (median {np.median(gap):.2%}); "
          f"median s/step float32 {f32_seconds:.3f}, bf16 {bf16_seconds:.3f} (bf16 {f32_seconds / bf16_seconds:.2f}x the speed)")


if __name__ == "__main__":
    main()
