"""Numba CUDA kernels for soft-DTW: one thread block per pair, an anti-diagonal wavefront.

As in pytorch-softdtw-cuda, the cells of one anti-diagonal (i + j = d) are independent,
so a block walks the N + M − 1 anti-diagonals with one barrier between them. Unlike
it, a thread handles rows tid, tid + T, tid + 2T, … so sequences are not capped at
1,024 steps (the block size T is at most ``MAX_THREADS``). The backward kernel walks
the anti-diagonals in reverse with the E recursion of Cuturi & Blondel (2017),
recomputing the soft-min weights from R and the cost. Cells outside the band stay
R = inf and E = 0.

R and E are float64 whatever the cost's dtype. The backward weights are
exp((R_next − R − cost) / γ): in float32, R's rounding error (about ulp(R), and R
grows with the sequences' length) is divided by γ: float32 gradients of a
300-step pair differed from the CPU kernel's by 1.4e-3 on an H200. In float64
only the final rounding remains, and the kernels are bound by their N + M − 1
barriers rather than by arithmetic.

This module imports on machines without CUDA; the kernels compile on first launch.
Tests run them under ``NUMBA_ENABLE_CUDASIM=1`` through ``soft_dtw_device_arrays``.
"""

from __future__ import annotations

import logging
import math
import os
import traceback

import numpy as np
from numba import cuda

from deepnag.errors import UserError

log = logging.getLogger(__name__)

MAX_THREADS = 256
"""Threads per block (one block per pair); longer sequences loop over rows."""


@cuda.jit
def _forward_kernel(cost, lo, hi, gamma, R):  # pragma: no cover (runs on the device)
    """R (P, N+1, M+1) must hold inf everywhere except R[:, 0, 0] = 0."""
    p = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    T = cuda.blockDim.x
    N = cost.shape[1]
    M = cost.shape[2]
    for d in range(N + M - 1):
        i = tid
        while i < N:
            j = d - i
            if j >= lo[i] and j <= hi[i] and j >= 0 and j < M:
                rd = R[p, i, j]
                ru = R[p, i, j + 1]
                rl = R[p, i + 1, j]
                m = min(rd, min(ru, rl))
                s = math.exp((m - rd) / gamma) + math.exp((m - ru) / gamma) + math.exp((m - rl) / gamma)
                R[p, i + 1, j + 1] = cost[p, i, j] + m - gamma * math.log(s)
            i += T
        cuda.syncthreads()


@cuda.jit
def _backward_kernel(cost, lo, hi, gamma, R, E):  # pragma: no cover (runs on the device)
    """E (P, N, M) must be zeros; cell (N-1, M-1) gets 1 and the recursion runs backwards."""
    p = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    T = cuda.blockDim.x
    N = cost.shape[1]
    M = cost.shape[2]
    for d in range(N + M - 2, -1, -1):
        i = tid
        while i < N:
            j = d - i
            if j >= lo[i] and j <= hi[i] and j >= 0 and j < M:
                if i == N - 1 and j == M - 1:
                    E[p, i, j] = 1.0
                else:
                    r = R[p, i + 1, j + 1]
                    e = 0.0
                    if i + 1 < N and j >= lo[i + 1] and j <= hi[i + 1]:  # successor below
                        e += E[p, i + 1, j] * math.exp((R[p, i + 2, j + 1] - r - cost[p, i + 1, j]) / gamma)
                    if j + 1 <= hi[i]:  # successor to the right
                        e += E[p, i, j + 1] * math.exp((R[p, i + 1, j + 2] - r - cost[p, i, j + 1]) / gamma)
                    if i + 1 < N and j + 1 >= lo[i + 1] and j + 1 <= hi[i + 1]:  # diagonal successor
                        e += E[p, i + 1, j + 1] * math.exp((R[p, i + 2, j + 2] - r - cost[p, i + 1, j + 1]) / gamma)
                    E[p, i, j] = e
            i += T
        cuda.syncthreads()


def _threads(n: int) -> int:
    return max(1, min(MAX_THREADS, n))


def soft_dtw_device_arrays(cost: np.ndarray, lo: np.ndarray, hi: np.ndarray, gamma: float, want_grad: bool,
                           threads: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Host-array face of the kernels (used by the simulator tests): values (P,) and E (P,N,M) or None."""
    P, N, M = cost.shape
    R = np.full((P, N + 1, M + 1), np.inf, np.float64)
    R[:, 0, 0] = 0
    d_cost, d_lo, d_hi, d_R = (cuda.to_device(a) for a in (np.ascontiguousarray(cost), lo, hi, R))
    t = threads or _threads(N)
    g = np.float64(gamma)
    _forward_kernel[P, t](d_cost, d_lo, d_hi, g, d_R)
    val = d_R.copy_to_host()[:, N, M].astype(cost.dtype)
    if not want_grad:
        return val, None
    d_E = cuda.to_device(np.zeros((P, N, M), np.float64))
    _backward_kernel[P, t](d_cost, d_lo, d_hi, g, d_R, d_E)
    return val, d_E.copy_to_host().astype(cost.dtype)


def soft_dtw_cuda(cost, lo: np.ndarray, hi: np.ndarray, gamma: float, want_grad: bool):
    """Soft-DTW of a CUDA tensor (P,N,M) on the tensor's device and stream → (values, E or None), no host copies."""
    try:
        return _soft_dtw_cuda(cost, lo, hi, gamma, want_grad)
    except (AttributeError, ImportError) as error:
        if not _raised_in_numba(error):
            raise
        raise UserError(
            f"Numba's CUDA target failed while compiling the soft-DTW kernels ({type(error).__name__}: {error}); "
            f"this numba-cuda does not work with NumPy {np.__version__}: install the NumPy release numba-cuda "
            "supports, or a newer numba-cuda"
        ) from None


def _raised_in_numba(error: BaseException) -> bool:
    """Whether the innermost frame of `error` is Numba's own code (an install problem, not a bug here)."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and f"{os.sep}numba" in frames[-1].filename


def _soft_dtw_cuda(cost, lo: np.ndarray, hi: np.ndarray, gamma: float, want_grad: bool):
    import torch

    cost = cost.detach().contiguous()
    P, N, M = cost.shape
    dev = cost.device
    with torch.cuda.device(dev):
        stream = cuda.external_stream(torch.cuda.current_stream(dev).cuda_stream)
        R = torch.full((P, N + 1, M + 1), float("inf"), dtype=torch.float64, device=dev)
        R[:, 0, 0] = 0
        lo_t = torch.tensor(lo, device=dev)
        hi_t = torch.tensor(hi, device=dev)
        t = _threads(N)
        g = np.float64(gamma)
        args = [cuda.as_cuda_array(a) for a in (cost, lo_t, hi_t)]
        _forward_kernel[P, t, stream](args[0], args[1], args[2], g, cuda.as_cuda_array(R))
        val = R[:, N, M].to(cost.dtype)
        if not want_grad:
            return val, None
        E = torch.zeros((P, N, M), dtype=torch.float64, device=dev)
        _backward_kernel[P, t, stream](args[0], args[1], args[2], g, cuda.as_cuda_array(R), cuda.as_cuda_array(E))
        return val, E.to(cost.dtype)
