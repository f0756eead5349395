"""Which kernel runs soft-DTW on a CUDA device, decided once per device by running both on a 2×3×3 problem.

The Numba CUDA kernels (``soft_dtw_cuda``) are the fast path; they depend on
numba-cuda and its compilers, which a fresh install can get wrong (numba-cuda
0.30.4 with NumPy 2.5 fails on every compilation). When they fail or disagree with
the CPU kernel, the torch wavefront (``soft_dtw_wavefront``) takes over, with one
warning that says what to install; when that fails too, PyTorch's CUDA itself is
broken and the error says so. Training checks this before it loads any data.
"""

from __future__ import annotations

import functools
import logging
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from deepnag.errors import UserError
from deepnag.loss.soft_dtw_wavefront import soft_dtw_wavefront

log = logging.getLogger(__name__)

Kernel = Callable[[Tensor, np.ndarray, np.ndarray, float, bool], "tuple[Tensor, Tensor | None]"]

GPU_INSTALL = "pip install -r requirements.txt -r requirements-cuda.txt"
"""The README's GPU install; see docs/install.md."""

_GAMMA = 0.5


def _probe_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A 2×3×3 cost, its full band, and the wavefront's float64 values and E for it on the CPU.

    The reference is the wavefront (tested against the Numba CPU kernel) rather than that kernel itself, so that
    an install that breaks Numba's compilation cannot break the probe's yardstick too.
    """
    cost = np.random.default_rng(0).uniform(0.0, 2.0, (2, 3, 3))
    lo, hi = np.zeros(3, np.int64), np.full(3, 2, np.int64)
    val, E = soft_dtw_wavefront(torch.from_numpy(cost), lo, hi, _GAMMA, True)
    return cost, lo, hi, val.numpy(), E.numpy()


def why_not(kernel: Kernel, device: torch.device) -> str | None:
    """Why `kernel` cannot run soft-DTW on `device` (an error, or values unlike the CPU's), or None if it can."""
    cost, lo, hi, ref_val, ref_E = _probe_problem()
    try:
        val, E = kernel(torch.tensor(cost, device=device), lo, hi, _GAMMA, True)
        val, E = val.cpu().numpy(), E.cpu().numpy()
    except Exception as error:  # a probe: whatever stops the tiny problem stops training too
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else 'no message'}"
    if not (np.allclose(val, ref_val, rtol=1e-9, atol=1e-12) and np.allclose(E, ref_E, rtol=1e-9, atol=1e-12)):
        return f"values {val.tolist()} where the CPU kernel gives {ref_val.tolist()}"
    return None


def _numba_kernel(cost: Tensor, lo: np.ndarray, hi: np.ndarray, gamma: float, want_grad: bool):
    """The Numba CUDA kernels, imported only here: importing numba.cuda is the step a broken install fails at."""
    from deepnag.loss import soft_dtw_cuda

    return soft_dtw_cuda.soft_dtw_cuda(cost, lo, hi, gamma, want_grad)


@functools.lru_cache(maxsize=None)
def kernel_for(device: torch.device) -> Kernel:
    """The kernel for CUDA `device`: Numba's when it runs, else the torch wavefront with one warning."""
    reason = why_not(_numba_kernel, device)
    if reason is None:
        return _numba_kernel
    fallback = why_not(soft_dtw_wavefront, device)
    if fallback is not None:
        raise UserError(f"soft-DTW does not run on {device}: PyTorch's CUDA fails on a 2×3×3 problem ({fallback}); "
                        "check the CUDA install with: python -c \"import torch; print(torch.ones(1, device='cuda'))\"")
    log.warning("the Numba CUDA soft-DTW kernels do not run on %s (%s); using the torch wavefront kernel, which is "
                "slower; for the fast kernels: %s", device, reason, GPU_INSTALL)
    return soft_dtw_wavefront


def kernel_on(device: torch.device) -> Kernel:
    """`kernel_for` the CUDA device, named with its index (cuda and cuda:0 are one device, decided once)."""
    return kernel_for(torch.device("cuda", device.index if device.index is not None else torch.cuda.current_device()))


def check(device: torch.device) -> None:
    """Before any data is loaded: pick (and so test) the soft-DTW kernel of a CUDA device; nothing to do on CPU."""
    if device.type == "cuda":
        kernel_on(device)
