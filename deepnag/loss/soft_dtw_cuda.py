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
``soft_dtw_device`` checks that they do, and falls back to a torch wavefront if not.
Tests run them under ``NUMBA_ENABLE_CUDASIM=1`` through ``soft_dtw_device_arrays``.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from numba import cuda

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


def compile_ptx(cc: tuple[int, int] = (8, 0)) -> dict[str, str]:
    """Both kernels compiled to PTX for compute capability `cc`, for float32 and float64 costs; needs no GPU.

    Compiling is the step that fails when numba-cuda and NumPy disagree; the install test runs it on machines
    without a GPU.
    """
    out = {}
    for dtype in ("float32", "float64"):
        common = f"{dtype}[:, :, ::1], int64[::1], int64[::1], float64, float64[:, :, ::1]"
        out[f"forward {dtype}"] = cuda.compile_ptx(_forward_kernel.py_func, f"({common})", cc=cc)[0]
        out[f"backward {dtype}"] = cuda.compile_ptx(_backward_kernel.py_func, f"({common}, float64[:, :, ::1])", cc=cc)[0]
    return out
