"""Speed of one DeepGAN generator step (its critic steps included) beside a baseline critic.

    python -m benchmarks.bench_deepgan                      # dollar-gds, this machine's cores
    python -m benchmarks.bench_deepgan --device cuda --steps 10 --profile

Every row runs DeepGANMethod.run_epoch at the reference's settings (B = 64, n = 64,
5 critic steps per generator step, float32) from the same weights and noise:
  * ours: as shipped (on CUDA: the critic step replayed from a CUDA graph);
  * eager (CUDA only): the critic step launched op by op, with cuDNN for the real and
    fake pass and ATen's fused GRU cells for the penalty's;
  * unrolled (CUDA only): eager, with the recurrence in tensor operations, as before;
  * indexing baseline (CPU only): the unrolled GRU reading time step t as inputs[:, t],
    whose backward adds a full-size zero gradient per step.
--profile prints the operators that took the most time in ours.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from deepnag.runtime import configure_openmp

configure_openmp()

import torch
import torch.nn.functional as F

from deepnag.cli import parse_args
from deepnag.data.batches import load_data
from deepnag.models import DifferentiableGRU
from deepnag.runtime import configure_threads, resolve_device
from deepnag.train.methods import DeepGANMethod, RandomStreams


class UnrolledGRU(DifferentiableGRU):
    """The previous GPU path: the unrolled recurrence on every device."""

    def forward(self, x: torch.Tensor, twice_differentiable: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        return self._unrolled(x)


class IndexingGRU(DifferentiableGRU):
    """The CPU baseline: same parameters and outputs, time steps read by indexing."""

    def forward(self, x: torch.Tensor, twice_differentiable: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = F.linear(x, self.weight_ih_l0, self.bias_ih_l0)
        h = x.new_zeros(x.shape[0], self.hidden_size)
        outputs = []
        for t in range(x.shape[1]):
            h = self._cell(inputs[:, t], h)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h[None]


def timed_step(method: DeepGANMethod, data, streams, device: torch.device) -> float:
    """Seconds of one generator step (five critic steps and one generator update)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    method.run_epoch(data, streams)  # reads loss_g with .item(), which synchronises the device
    return time.perf_counter() - start


def seconds_per_step(methods: dict[str, DeepGANMethod], data, device: torch.device, steps: int,
                     warmup: int) -> dict[str, float]:
    """Median seconds per generator step of each method, their steps taken in turn (A, B, A, B, …)."""
    streams = {name: RandomStreams.seeded(0, device) for name in methods}
    for name, method in methods.items():
        for _ in range(warmup):
            timed_step(method, data, streams[name], device)
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(steps):
        for name, method in methods.items():
            times[name].append(timed_step(method, data, streams[name], device))
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--dataset", choices=("dollar-gds", "jk2017-kinect"), default="dollar-gds")
    parser.add_argument("--steps", type=int, default=2, help="timed generator steps per row")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    device = resolve_device(args.device)
    config = parse_args(["--model=DeepGAN"])[0]
    data = load_data(args.dataset, args.datapath).to(device)
    print(f"torch {torch.__version__} on {device}, {threads} threads, {args.dataset}, B={config.batch_size}, "
          f"n={data.seq_len}, {config.deepgan_critic_iters} critic steps per generator step")
    rows = ("ours", "eager", "unrolled") if device.type == "cuda" else ("ours", "indexing baseline")
    methods = {}
    for name in rows:
        torch.manual_seed(0)
        method = DeepGANMethod(config, data, device)
        method.use_cuda_graph = name == "ours" and method.use_cuda_graph
        for gru in method.critic.grus if name in ("unrolled", "indexing baseline") else ():
            gru.__class__ = UnrolledGRU if name == "unrolled" else IndexingGRU
        methods[name] = method
    results = seconds_per_step(methods, data, device, args.steps, args.warmup)
    for name in rows:
        print(f"{name:<20} {results[name]:8.3f} s per generator step (median of {args.steps}, interleaved)")
    for name in rows[1:]:
        print(f"ours is {results[name] / results['ours']:.2f}x faster than {name}")
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        torch.manual_seed(0)
        method = DeepGANMethod(config, data, device)
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        streams = RandomStreams.seeded(0, device)
        timed_step(method, data, streams, device)  # warm up (and capture) outside the profile
        with profile(activities=activities) as prof:
            timed_step(method, data, streams, device)
        key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
        print(prof.key_averages().table(sort_by=key, row_limit=15))


if __name__ == "__main__":
    main()
