"""Process-wide OpenMP setting that the entry points apply before torch is imported.

torch's CPU operators run on a GNU OpenMP team whose idle threads, by default,
spin for milliseconds before they sleep. On a machine with few cores that spin
takes the core the soft-DTW kernel's second thread needs right after a torch
operator (measured on 2 cores: the loss 1.5x slower). A short spin (about 0.1 ms)
keeps back-to-back torch operators, such as a GRU's time steps, as fast as before
and frees the core for the kernel. OMP_WAIT_POLICY=PASSIVE (no spin at all) made
the generator 1.4-1.6x slower on the same machine.
"""

from __future__ import annotations

import os
import sys

OPENMP_SPIN_COUNT = "10000"
"""Busy-wait iterations of an idle GNU OpenMP thread before it sleeps (libgomp's default is 300,000)."""


def configure_openmp() -> bool:
    """Set GOMP_SPINCOUNT unless the user did; True if it takes effect (torch not imported yet)."""
    if "torch" in sys.modules:
        return False
    os.environ.setdefault("GOMP_SPINCOUNT", OPENMP_SPIN_COUNT)
    return True
