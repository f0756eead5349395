"""Multi-process training with PyTorch's own engine (torchrun + DistributedDataParallel).

    torchrun --nproc_per_node=4 main.py --model=DeepNAG --dataset=dollar-gds
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d --rdzv-endpoint=HOST:29500 main.py ...

A run started by torchrun (RANK and WORLD_SIZE in the environment) joins a
process group: gloo on the CPU, nccl on CUDA. Every rank takes a disjoint shard
of each epoch, gradients are averaged by DDP, epoch metrics are averaged over
ranks, and rank 0 alone writes logs, TensorBoard and checkpoints. A plain
`python main.py` run does none of this.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from deepnag.runtime import launched_by_torchrun, resolve_device


@dataclass(frozen=True)
class Context:
    """Where this process stands in the job (a plain run is rank 0 of 1, not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    enabled: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def restart_count() -> int:
    """How many times torchrun has restarted this worker group (--max-restarts): 0 at the first start, or without it."""
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT") or 0)


def job_id() -> str:
    """torchrun's id of this job, the same for every restart of its worker group ("" without torchrun)."""
    return os.environ.get("TORCHELASTIC_RUN_ID", "")


def setup(device: str) -> Context:
    """Join the process group torchrun prepared; a plain run gets the single-process context."""
    if not launched_by_torchrun():
        return Context()
    use_cuda = resolve_device(device).type == "cuda"
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        # torchrun keeps one key-value store for every start of the worker group, so the keys a group's
        # processes meet by would still hold the addresses of the group it restarted, and the new processes
        # would dial the dead ones (seen: "Connection refused", then failure or a hang). Each start therefore
        # meets under its own prefix.
        store, rank, world_size = next(dist.rendezvous("env://"))
        store = dist.PrefixStore(f"deepnag/start-{restart_count()}", store)
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", store=store, rank=rank, world_size=world_size)
    return Context(dist.get_rank(), dist.get_world_size(), local_rank, True)


def teardown(context: Context, finished: bool) -> None:
    """Leave the process group. After a finished run every rank first waits for the others, so that none closes its
    connections while another still talks to it; after a failure it leaves at once (the others may never come)."""
    if context.enabled and dist.is_initialized():
        if finished:
            dist.barrier()
        dist.destroy_process_group()


def gather_rows(values: torch.Tensor, context: Context) -> torch.Tensor:
    """Stack every rank's 1-D `values` into (world_size, len); a plain run gets (1, len)."""
    if not context.enabled:
        return values[None]
    rows = [torch.empty_like(values) for _ in range(context.world_size)]
    dist.all_gather(rows, values.contiguous())
    return torch.stack(rows)


def any_rank(flag: bool, context: Context, device: torch.device) -> bool:
    """True on every rank when `flag` is true on at least one."""
    if not context.enabled:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def all_ranks(flag: torch.Tensor, context: Context) -> torch.Tensor:
    """Logical AND of a boolean scalar tensor over ranks (so every rank takes the same decision)."""
    if not context.enabled:
        return flag
    value = flag.to(torch.float32).reshape(1)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return value[0] > 0


def broadcast_text(text: str | None, context: Context) -> str | None:
    """Rank 0's string on every rank (e.g. the run directory's path)."""
    if not context.enabled:
        return text
    box = [text]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def parameters_agree(module: torch.nn.Module, context: Context, device: torch.device) -> bool:
    """Whether every rank holds exactly the same parameters (a checksum comparison)."""
    if not context.enabled:
        return True
    with torch.no_grad():
        flat = torch.cat([p.detach().reshape(-1).double() for p in module.parameters()])
        signature = torch.stack([flat.sum(), (flat * torch.arange(1, len(flat) + 1, device=flat.device, dtype=flat.dtype).sin()).sum()])
    rows = gather_rows(signature.to(device), context)
    return bool((rows == rows[0]).all())
