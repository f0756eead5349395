"""Soft-DTW (Cuturi & Blondel, 2017) for batches of pairs: functional face, autograd, dispatch.

    R[0,0] = 0, R[i,0] = R[0,j] = inf,
    R[i,j] = cost[i,j] + softmin_γ(R[i-1,j-1], R[i-1,j], R[i,j-1]),  value = R[N,M].

The gradient with respect to the cost matrix is the expected alignment E of the
backward recursion of the paper (never autograd through the recursion). The kernels
(``soft_dtw_cpu`` in Numba, ``soft_dtw_cuda`` in Numba CUDA) are picked from the
device of the tensors. E is computed right after the forward recursion, while its
inputs are still in cache, and only when an input requires grad; the autograd
backward then scales it by the upstream gradient.

Sakoe–Chiba band (``bandwidth`` w, ``None`` for no band): 0-based cell (i, j) is kept
when ``|j − i·(M−1)/(N−1)| <= w``, i.e. around the diagonal from (0, 0) to (N−1, M−1),
widened where needed so that each row's kept cells touch the next row's (so the band
always holds a path and the value is finite). For N = M this is ``|i − j| <= w``, the
reference's band; unlike the reference, unequal lengths do not give inf, and
``bandwidth=0`` means the diagonal only (the reference reads 0 as "no band").
"""

from __future__ import annotations

import functools
import logging
import math
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from deepnag.costs import TERMS, BilinearTerms, check_sequences, cosine_cost, squared_euclidean_cost
from deepnag.errors import UserError
from deepnag.soft_dtw_cpu import soft_dtw_cpu

log = logging.getLogger(__name__)

__all__ = ["soft_dtw", "soft_dtw_pairs", "soft_dtw_divergence", "sakoe_chiba_band", "sakoe_chiba_mask", "SoftDTW",
           "squared_euclidean_cost", "cosine_cost"]


# ----------------------------------------------------------------------------------------------------------------------
# Checks and the band
# ----------------------------------------------------------------------------------------------------------------------
def _check_gamma(gamma: float) -> float:
    """γ must be a finite number > 0 (γ → 0 is hard DTW, γ = 0 divides by zero)."""
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise UserError(f"soft-DTW gamma must be a number > 0; got {gamma!r}") from None
    if not (math.isfinite(g) and g > 0):
        raise UserError(f"soft-DTW gamma must be a finite number > 0; got {gamma!r}")
    return g


def _check_bandwidth(bandwidth: float | None) -> float | None:
    """None (no band) or a finite number >= 0."""
    if bandwidth is None:
        return None
    try:
        w = float(bandwidth)
    except (TypeError, ValueError):
        raise UserError(f"soft-DTW bandwidth must be None or a number >= 0; got {bandwidth!r}") from None
    if not (math.isfinite(w) and w >= 0):
        raise UserError(f"soft-DTW bandwidth must be None or a finite number >= 0; got {bandwidth!r}")
    return w


@functools.lru_cache(maxsize=64)
def sakoe_chiba_band(n: int, m: int, bandwidth: float | None) -> tuple[np.ndarray, np.ndarray]:
    """First and last kept column of each row (0-based, inclusive) of an n×m band; see the module docstring."""
    lo = np.zeros(n, np.int64)
    hi = np.full(n, m - 1, np.int64)
    if bandwidth is not None and n > 1 and m > 1:
        slope = (m - 1) / (n - 1)
        centre = np.arange(n) * slope
        tol = 1e-9  # i·slope is inexact for unequal lengths; do not lose a cell on the band's edge to rounding
        lo = np.maximum(0, np.ceil(centre - bandwidth - tol)).astype(np.int64)
        top = np.minimum(m - 1, np.floor(centre + bandwidth + tol)).astype(np.int64)
        nxt = np.append(lo[1:] - 1, m - 1)  # reach the cell diagonally before the next row's first one
        hi = np.maximum(np.maximum(top, lo), nxt)
        hi[-1] = m - 1
    lo.setflags(write=False)
    hi.setflags(write=False)
    return lo, hi


def sakoe_chiba_mask(n: int, m: int, bandwidth: float | None) -> Tensor:
    """(n, m) boolean mask of the cells soft-DTW keeps (True inside the band)."""
    lo, hi = sakoe_chiba_band(n, m, _check_bandwidth(bandwidth))
    j = np.arange(m)
    return torch.from_numpy((j[None, :] >= lo[:, None]) & (j[None, :] <= hi[:, None]))


def _band(n: int, m: int, bandwidth: float | None) -> tuple[np.ndarray, np.ndarray, bool]:
    lo, hi = sakoe_chiba_band(n, m, bandwidth)
    full = bool(lo[0] == 0 and (lo == 0).all() and (hi == m - 1).all())
    return lo, hi, full


# ----------------------------------------------------------------------------------------------------------------------
# Dispatch
# ----------------------------------------------------------------------------------------------------------------------
def _run(G: Tensor, alpha: Tensor, beta: Tensor, kappa: float, gamma: float, bandwidth: float | None,
         want_grad: bool) -> tuple[Tensor, Tensor | None, Tensor | None, Tensor | None]:
    """Soft-DTW of ``kappa*G + alpha[:,:,None] + beta[:,None,:]``: values and (when asked) E, its row and column sums."""
    P, N, M = G.shape
    lo, hi, full = _band(N, M, bandwidth)
    if G.is_cuda:
        from deepnag import soft_dtw_cuda

        cost = (alpha.unsqueeze(2) + beta.unsqueeze(1)).add_(G, alpha=kappa)
        if not bool(torch.isfinite(cost).all()):
            raise UserError("soft-DTW input contains NaN or inf values")
        val, E = soft_dtw_cuda.soft_dtw_cuda(cost, lo, hi, gamma, want_grad)
        if E is None:
            return val, None, None, None
        return val, E, E.sum(2), E.sum(1)
    if G.device.type != "cpu":
        raise UserError(f"soft-DTW runs on CPU or CUDA tensors; got device {G.device}")
    g = G.detach().contiguous().numpy()
    a = alpha.detach().contiguous().numpy()
    b = beta.detach().contiguous().numpy()
    out_E = np.zeros((P, N, M), g.dtype) if (want_grad and not full) else None
    val, bad, E, rs, cs = soft_dtw_cpu(g, a, b, kappa, lo, hi, gamma, want_grad, torch.get_num_threads(), out_E)
    if not np.isfinite(bad).all():
        raise UserError("soft-DTW input contains NaN or inf values")
    if E is None:
        return torch.from_numpy(val), None, None, None
    return torch.from_numpy(val), torch.from_numpy(E), torch.from_numpy(rs), torch.from_numpy(cs)


class _SoftDTWFunction(torch.autograd.Function):
    """Soft-DTW of dense cost matrices; gradient E scaled by the upstream gradient."""

    @staticmethod
    def forward(ctx, cost: Tensor, gamma: float, bandwidth: float | None) -> Tensor:  # type: ignore[override]
        P, N, _ = cost.shape
        zeros_n = cost.new_zeros(P, N)
        zeros_m = cost.new_zeros(P, cost.shape[2])
        val, E, _, _ = _run(cost, zeros_n, zeros_m, 1.0, gamma, bandwidth, ctx.needs_input_grad[0])
        if E is not None:
            ctx.save_for_backward(E)
        return val

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        (E,) = ctx.saved_tensors
        return E * grad.view(-1, 1, 1), None, None


class _BilinearSoftDTWFunction(torch.autograd.Function):
    """Soft-DTW of ``alpha_i + beta_j + kappa f_i·g_j``: the cost is assembled inside the kernel."""

    @staticmethod
    def forward(ctx, f: Tensor, g: Tensor, alpha: Tensor, beta: Tensor, kappa: float, gamma: float,  # type: ignore[override]
                bandwidth: float | None) -> Tensor:
        want = ctx.needs_input_grad[:4]
        G = torch.bmm(f, g.transpose(1, 2))
        val, E, rs, cs = _run(G, alpha, beta, kappa, gamma, bandwidth, any(want))
        if E is not None:
            ctx.save_for_backward(f if want[1] else None, g if want[0] else None, E,
                                  rs if want[2] else None, cs if want[3] else None)
        ctx.kappa = kappa
        return val

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        f, g, E, rs, cs = ctx.saved_tensors
        want = ctx.needs_input_grad[:4]
        scale = grad.view(-1, 1, 1)
        gf = torch.bmm(E, g).mul_(scale * ctx.kappa) if want[0] else None
        gg = torch.bmm(E.transpose(1, 2), f).mul_(scale * ctx.kappa) if want[1] else None
        ga = rs * grad.view(-1, 1) if want[2] else None
        gb = cs * grad.view(-1, 1) if want[3] else None
        return gf, gg, ga, gb, None, None, None


# ----------------------------------------------------------------------------------------------------------------------
# Functional face
# ----------------------------------------------------------------------------------------------------------------------
def soft_dtw(cost: Tensor, gamma: float, bandwidth: float | None = None) -> Tensor:
    """Soft-DTW value of each (N, M) cost matrix of a (P, N, M) batch → (P,); differentiable in the cost."""
    gamma = _check_gamma(gamma)
    bandwidth = _check_bandwidth(bandwidth)
    if not isinstance(cost, Tensor) or cost.dim() != 3:
        raise UserError(f"soft-DTW cost must be a 3-D tensor (pairs, N, M); got {getattr(cost, 'shape', type(cost))}")
    if cost.shape[1] == 0 or cost.shape[2] == 0:
        raise UserError(f"soft-DTW needs non-empty sequences; got cost matrices of shape {tuple(cost.shape[1:])}")
    if cost.dtype not in (torch.float32, torch.float64):
        raise UserError(f"soft-DTW cost must be float32 or float64; got {cost.dtype}")
    if cost.shape[0] == 0:
        return cost.new_zeros(0)
    return _SoftDTWFunction.apply(cost, gamma, bandwidth)


def _soft_dtw_terms(terms: BilinearTerms, gamma: float, bandwidth: float | None) -> Tensor:
    if terms.f.shape[0] == 0:
        return terms.f.new_zeros(0)
    return _BilinearSoftDTWFunction.apply(terms.f.contiguous(), terms.g.contiguous(), terms.alpha.contiguous(),
                                          terms.beta.contiguous(), terms.kappa, gamma, bandwidth)


def soft_dtw_pairs(x: Tensor, y: Tensor, gamma: float, distance: str = "ed", bandwidth: float | None = None) -> Tensor:
    """Soft-DTW between x[p] (N,D) and y[p] (M,D) for every p → (P,), cost 'ed' or 'cos' built in the kernel.

    Same value as ``soft_dtw(squared_euclidean_cost(x, y), ...)`` (or ``cosine_cost``), without the dense cost.
    """
    gamma = _check_gamma(gamma)
    bandwidth = _check_bandwidth(bandwidth)
    if distance not in TERMS:
        raise UserError(f"soft-DTW distance must be one of {sorted(TERMS)}; got {distance!r}")
    return _soft_dtw_terms(TERMS[distance](x, y), gamma, bandwidth)


_FUSED: dict[Callable, str] = {squared_euclidean_cost: "ed", cosine_cost: "cos"}


def soft_dtw_divergence(x: Tensor, y: Tensor, gamma: float, cost_fn: Callable[[Tensor, Tensor], Tensor] | str =
                        squared_euclidean_cost, bandwidth: float | None = None) -> Tensor:
    """Normalised soft-DTW sdtw(x,y) − ½(sdtw(x,x) + sdtw(y,y)) per pair → (P,); 0 when x = y.

    ``cost_fn`` is 'ed', 'cos', one of the two cost functions (both run fused), or any
    callable mapping (P,N,D), (P,M,D) to a (P,N,M) cost.
    """
    name = cost_fn if isinstance(cost_fn, str) else _FUSED.get(cost_fn)
    if name is not None:
        return (soft_dtw_pairs(x, y, gamma, name, bandwidth)
                - 0.5 * (soft_dtw_pairs(x, x, gamma, name, bandwidth) + soft_dtw_pairs(y, y, gamma, name, bandwidth)))
    check_sequences(x, y)
    return (soft_dtw(cost_fn(x, y), gamma, bandwidth)
            - 0.5 * (soft_dtw(cost_fn(x, x), gamma, bandwidth) + soft_dtw(cost_fn(y, y), gamma, bandwidth)))


class SoftDTW(nn.Module):
    """Module over ``soft_dtw_pairs`` / ``soft_dtw_divergence``: forward(x, y) → (P,) values."""

    def __init__(self, gamma: float = 0.1, distance: str = "ed", bandwidth: float | None = None,
                 normalize: bool = False) -> None:
        super().__init__()
        self.gamma = _check_gamma(gamma)
        self.bandwidth = _check_bandwidth(bandwidth)
        if distance not in TERMS:
            raise UserError(f"soft-DTW distance must be one of {sorted(TERMS)}; got {distance!r}")
        self.distance = distance
        self.normalize = normalize

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        if self.normalize:
            return soft_dtw_divergence(x, y, self.gamma, self.distance, self.bandwidth)
        return soft_dtw_pairs(x, y, self.gamma, self.distance, self.bandwidth)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, distance={self.distance!r}, bandwidth={self.bandwidth}, normalize={self.normalize}"
