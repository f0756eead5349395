"""Where and how a process computes: the OpenMP setting, the thread count, the device. One place for each.

`configure_openmp` runs before torch is imported, so this module imports torch
only inside the functions that need it.

torch's CPU operators run on a GNU OpenMP team whose idle threads, by default,
spin for milliseconds before they sleep. On a machine with few cores that spin
takes the core the soft-DTW kernel's second thread needs right after a torch
operator (measured on 2 cores: the loss 1.5x slower). A short spin (about 0.1 ms)
keeps back-to-back torch operators, such as a GRU's time steps, as fast as before
and frees the core for the kernel. OMP_WAIT_POLICY=PASSIVE (no spin at all) made
the generator 1.4-1.6x slower on the same machine.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from deepnag.errors import UserError

if TYPE_CHECKING:
    import torch

OPENMP_SPIN_COUNT = "10000"
"""Busy-wait iterations of an idle GNU OpenMP thread before it sleeps (libgomp's default is 300,000)."""


def configure_openmp() -> bool:
    """Set GOMP_SPINCOUNT unless the user did; True if it takes effect (torch not imported yet)."""
    if "torch" in sys.modules:
        return False
    os.environ.setdefault("GOMP_SPINCOUNT", OPENMP_SPIN_COUNT)
    return True


def configure_threads(num_threads: int) -> int:
    """Give torch and Numba the same thread count so they never oversubscribe.

    Default: the cores available, shared among the processes torchrun started on this machine.
    """
    import numba
    import torch

    n = num_threads or max(1, len(os.sched_getaffinity(0)) // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    torch.set_num_threads(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return n


def resolve_device(name: str) -> "torch.device":
    """The device for --device=NAME: auto picks CUDA when PyTorch sees one; cuda without one is an error."""
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device=cuda but PyTorch sees no CUDA device; use --device=cpu or auto")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def command() -> str:
    """How the user started this program, for the commands it suggests: `deepnag` when installed, else `python main.py`."""
    return "deepnag" if os.path.basename(sys.argv[0]) == "deepnag" else "python main.py"


def launched_by_torchrun() -> bool:
    """Whether torchrun started this process as one worker of a job (RANK and WORLD_SIZE in the environment)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def end_process(code: int) -> NoReturn:
    """Exit with `code` now, logs and output flushed, without the interpreter's finalisation.

    For torchrun workers. DistributedDataParallel's reducer keeps its gloo process group, and the group's threads,
    alive after `destroy_process_group`; destroying them while the interpreter and the C++ statics are torn down at
    exit aborted a worker now and then ("terminate called without an active exception"), after a run that had
    finished and saved everything, and torchrun then reports the job failed. Everything a run writes is closed by
    the time its action returns, so there is nothing left for finalisation to do.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)
