"""Worker processes that never outlive the process that started them: one place to start a pool.

A pool's workers sleep on their task queue. When the parent dies without shutting the pool down (SIGKILL, or a
SIGTERM whose default action skips Python's clean-up), they would wait forever, holding their memory, with PID 1 as
their parent. On Linux each worker asks the kernel to send it SIGKILL when its parent dies (PR_SET_PDEATHSIG); on
SIGTERM the parent shuts its pools down itself (`terminate_on_sigterm`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

PR_SET_PDEATHSIG = 1
"""prctl(2): the signal a process gets when its parent dies."""


def die_with_parent(parent: int) -> None:
    """In a worker: be killed when `parent` dies (Linux), and exit at once if it is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def pool(workers: int) -> ProcessPoolExecutor:
    """A process pool of `workers` spawned processes (fresh interpreters: torch and Numba's threads are not fork-safe)
    that die with this process."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=die_with_parent,
                               initargs=(os.getpid(),))


@contextlib.contextmanager
def terminate_on_sigterm(executor: Any) -> Iterator[Any]:
    """While the block runs (main thread only), SIGTERM shuts `executor`'s workers down before this process ends, as
    SystemExit(143) through the usual clean-up; the earlier handler comes back afterwards."""
    if not isinstance(executor, ProcessPoolExecutor) or signal.getsignal(signal.SIGTERM) is None:
        yield executor
        return

    def stop(signum: int, frame: Any) -> None:
        processes = list((getattr(executor, "_processes", None) or {}).values())
        for process in processes:
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: PR_SET_PDEATHSIG still covers the workers
        yield executor
        return
    try:
        yield executor
    finally:
        signal.signal(signal.SIGTERM, previous)
