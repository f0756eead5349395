"""Training speed of DeepNAG at the reference's settings, broken down, beside its baselines.

    python -m benchmarks.bench_train                 # both data sets, this machine's cores
    python -m benchmarks.bench_train --steps 10 --dataset dollar-gds --amp bf16

For each data set (B = 64, n = 64, float32) it times, in the same run:
  * DeepNAG's step, split into data, generator forward, loss forward, loss
    backward, generator backward and optimiser;
  * the generator-alone floor: the same two forward passes, one backward and
    Adam, with a trivial loss;
  * the reference-style loss path (benchmarks/reference_loss.py: all B² pairs
    expanded then masked, the full difference tensor, float64 NumPy round trips
    into a per-pair Numba loop) on the same generator.
The three contenders take their steps in turn (deepnag, floor, reference,
deepnag, …) so that background load hits all alike, and every figure is a
median over steps. Per-epoch figures are per-step figures times the batches of
one epoch.
With --device cuda everything runs on the GPU (timings synchronise the device),
except the reference-style loss's float64 NumPy round trips, which are its CPU path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from deepnag.runtime import configure_openmp

if "--openmp-default" not in sys.argv:  # as the command line does, before torch loads
    configure_openmp()

import torch

from benchmarks.reference_loss import reference_deepnag_loss
from deepnag.cli import parse_args
from deepnag.data.batches import load_data
from deepnag.loss.objective import deepnag_loss
from deepnag.models import sample_latent
from deepnag.runtime import configure_threads, resolve_device
from deepnag.train.methods import DeepNAGMethod, RandomStreams

PHASES = ("data", "gen_forward", "loss_forward", "loss_backward", "gen_backward", "optimiser")


def stepper(method, data, streams, loss_name: str, amp: str, device: torch.device) -> Callable[[], list[float]]:
    """One training step per call with the given loss; returns the seconds of each phase (PHASES order)."""
    batches = iter(())
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if amp == "bf16" else nullcontext()
    generator, optimizer = method.generator, method.optimizers["generator"]

    def clock() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter()

    def step() -> list[float]:
        nonlocal batches
        t0 = clock()
        batch = next(batches, None)
        if batch is None:
            batches = data.batches(64, streams.data)
            batch = next(batches)
        real_1, labels, real_2 = batch
        t1 = clock()
        z1 = sample_latent(len(labels), data.seq_len, 32, streams.latent, device)
        z2 = sample_latent(len(labels), data.seq_len, 32, streams.latent, device)
        with autocast:
            fake_1 = generator(z1, labels)
            with torch.no_grad():
                fake_2 = generator(z2, labels)
        fake_1, fake_2 = fake_1.float(), fake_2.float()
        t2 = clock()
        leaf = fake_1.detach().requires_grad_(True)
        if loss_name == "deepnag":
            loss, _ = deepnag_loss(real_1, real_2, leaf, fake_2, labels)
        elif loss_name == "reference":
            loss = reference_deepnag_loss(real_1, real_2, leaf, fake_2, labels)
        else:  # the floor: a loss that costs nothing
            loss = (leaf - real_1).square().mean()
        t3 = clock()
        (grad,) = torch.autograd.grad(loss, leaf)
        t4 = clock()
        optimizer.zero_grad(set_to_none=True)
        fake_1.backward(grad)
        t5 = clock()
        optimizer.step()
        t6 = clock()
        return [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5]

    return step


def interleaved(steppers: dict[str, Callable[[], list[float]]], rounds: dict[str, int],
                warmup: int) -> dict[str, dict[str, float]]:
    """Median seconds per phase (and per whole step) of each contender, their steps taken in turn: A, B, C, A, B, …

    A contender with fewer `rounds` (the slow reference-style loss) takes part in the first rounds only.
    """
    for step in steppers.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[list[float]]] = {name: [] for name in steppers}
    for r in range(max(rounds.values())):
        for name, step in steppers.items():
            if r < rounds[name]:
                times[name].append(step())
    out = {}
    for name, rows in times.items():
        out[name] = {phase: statistics.median(row[i] for row in rows) for i, phase in enumerate(PHASES)}
        out[name]["step"] = statistics.median(sum(row) for row in rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--dataset", action="append", choices=("dollar-gds", "jk2017-kinect"))
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--reference-steps", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--amp", choices=("none", "bf16"), default="none")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    parser.add_argument("--openmp-default", action="store_true",
                        help="keep libgomp's default spin of idle threads instead of the command line's setting")
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    device = resolve_device(args.device)
    print(f"torch {torch.__version__} on {device}, {threads} threads, B=64, n=64, float32, amp={args.amp}, "
          f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', 'default')}")
    config = parse_args([])[0]
    for name in args.dataset or ("dollar-gds", "jk2017-kinect"):
        data = load_data(name, args.datapath).to(device)
        per_epoch = data.batches_per_epoch(64)
        steppers = {}
        for loss_name in ("deepnag", "floor", "reference"):
            torch.manual_seed(0)
            method = DeepNAGMethod(config, data, device)
            steppers[loss_name] = stepper(method, data, RandomStreams.seeded(0, device), loss_name, args.amp, device)
        results = interleaved(steppers, {"deepnag": args.steps, "floor": args.steps, "reference": args.reference_steps},
                              args.warmup)
        print(f"\n{name}: {len(data)} samples, {per_epoch} batches per epoch, D={data.num_features}")
        print(f"{'median s/step':<16}" + "".join(f"{k:>12}" for k in results))
        for phase in PHASES:
            print(f"{phase:<16}" + "".join(f"{r[phase]:>12.4f}" for r in results.values()))
        step = {k: r["step"] for k, r in results.items()}
        print(f"{'step':<16}" + "".join(f"{v:>12.3f}" for v in step.values()))
        print(f"{'epoch (s)':<16}" + "".join(f"{v * per_epoch:>12.2f}" for v in step.values()))
        loss = {k: results[k]["loss_forward"] + results[k]["loss_backward"] for k in ("deepnag", "reference")}
        print(f"DeepNAG epoch / generator-alone floor: {step['deepnag'] / step['floor']:.2f}x; "
              f"loss forward+backward {loss['deepnag'] * 1000:.1f} ms vs reference-style {loss['reference'] * 1000:.0f} ms "
              f"({loss['reference'] / loss['deepnag']:.0f}x faster); whole step {step['reference'] / step['deepnag']:.1f}x faster")


if __name__ == "__main__":
    main()
