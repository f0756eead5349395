"""Soft-DTW in plain torch on any device: the anti-diagonal wavefront, one vectorised step per diagonal.

The fallback for a GPU where Numba's CUDA kernels do not compile (see
``soft_dtw_device``): it needs nothing but PyTorch. The cost matrix is skewed once
so that anti-diagonal D = I + J (1-based cell (I, J), row/column 0 the border) is
a row of a (P, N+M+1, N+1) array; then the forward recursion of Cuturi & Blondel
(2017) reads diagonals D−1 and D−2 and the backward (E) recursion reads D+1 and
D+2, each a handful of whole-row operations. The loop over the N + M − 1
diagonals is the recursion's own order, like a recurrent layer's loop over time.

R and E are float64 whatever the cost's dtype, as in the Numba kernels.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor


@functools.lru_cache(maxsize=64)
def _skew(n: int, m: int, lo: bytes, hi: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Flat cost index (into N·M) and band validity of each skewed cell (D, I), both (N+M+1, N+1)."""
    low, high = np.frombuffer(lo, np.int64), np.frombuffer(hi, np.int64)
    d = np.arange(n + m + 1)[:, None]
    i = np.arange(n + 1)[None, :]
    j = d - i
    row = np.clip(i - 1, 0, n - 1)
    valid = (i >= 1) & (j >= 1) & (j <= m) & (j - 1 >= low[row]) & (j - 1 <= high[row])
    index = np.where(valid, (i - 1) * m + (j - 1), 0)
    return index, valid


def soft_dtw_wavefront(cost: Tensor, lo: np.ndarray, hi: np.ndarray, gamma: float,
                       want_grad: bool) -> tuple[Tensor, Tensor | None]:
    """Soft-DTW of a (P, N, M) cost on its own device, band [lo[i], hi[i]] per row → (values, E or None)."""
    P, N, M = cost.shape
    dev = cost.device
    flat, ok = _skew(N, M, np.ascontiguousarray(lo, np.int64).tobytes(), np.ascontiguousarray(hi, np.int64).tobytes())
    index = torch.from_numpy(flat).to(dev)
    valid = torch.from_numpy(ok).to(dev)
    c = cost.detach().reshape(P, N * M).to(torch.float64)
    skewed = torch.where(valid, c[:, index], 0.0)  # (P, N+M+1, N+1)
    inf = torch.tensor(float("inf"), dtype=torch.float64, device=dev)
    R = torch.full((P, N + M + 1, N + 1), float("inf"), dtype=torch.float64, device=dev)
    R[:, 0, 0] = 0.0
    for d in range(2, N + M + 1):
        previous = torch.stack((R[:, d - 2, :-1], R[:, d - 1, :-1], R[:, d - 1, 1:]))  # diagonal, up, left
        soft_min = -gamma * torch.logsumexp(-previous / gamma, dim=0)
        R[:, d, 1:] = torch.where(valid[d, 1:], skewed[:, d, 1:] + soft_min, inf)
    values = R[:, N + M, N].to(cost.dtype)
    if not want_grad:
        return values, None
    return values, _expected_alignment(R, skewed, valid, index, gamma, (P, N, M)).to(cost.dtype)


def _expected_alignment(R: Tensor, skewed: Tensor, valid: Tensor, index: Tensor, gamma: float,
                        shape: tuple[int, int, int]) -> Tensor:
    """E = dR[N,M]/dcost by the backward recursion over the diagonals in reverse, unskewed to (P, N, M)."""
    P, N, M = shape
    E = torch.zeros_like(R)
    E[:, N + M, N] = 1.0
    for d in range(N + M - 1, 1, -1):
        r = R[:, d, 1:]  # cells (I, J) with I = 1..N on diagonal d
        terms = []
        # successors: below (I+1, J) on d+1, right (I, J+1) on d+1, diagonal (I+1, J+1) on d+2
        for step, shift in ((1, 1), (1, 0), (2, 1)):
            if d + step > N + M:
                continue
            nxt = slice(1 + shift, None)
            ok = valid[d + step, nxt]
            weight = torch.exp((R[:, d + step, nxt] - r[:, : N - shift] - skewed[:, d + step, nxt]) / gamma)
            part = torch.where(ok, E[:, d + step, nxt] * weight, 0.0)
            terms.append(torch.nn.functional.pad(part, (0, shift)))
        E[:, d, 1:] = torch.where(valid[d, 1:], sum(terms), 0.0)
    out = torch.zeros(P, N * M, dtype=torch.float64, device=R.device)
    out[:, index[valid]] = E[:, valid]
    return out.view(P, N, M)
