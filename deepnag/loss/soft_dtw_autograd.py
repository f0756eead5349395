"""Soft-DTW (Cuturi & Blondel, 2017) for batches of pairs: functional face, autograd, dispatch.

    R[0,0] = 0, R[i,0] = R[0,j] = inf,
    R[i,j] = cost[i,j] + softmin_γ(R[i-1,j-1], R[i-1,j], R[i,j-1]),  value = R[N,M].

The gradient with respect to the cost matrix is the expected alignment E of the
backward recursion of the paper (never autograd through the recursion). The kernels
(``soft_dtw_cpu`` in Numba; on a GPU ``soft_dtw_cuda`` in Numba CUDA, or the torch
wavefront where that does not compile, see ``soft_dtw_device``) are picked from the
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
from typing import Callable, NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from deepnag.config import Config
from deepnag.errors import UserError
from deepnag.loss import soft_dtw_device
from deepnag.loss.costs import (
    TERMS,
    check_sequences,
    cosine_cost,
    features,
    squared_euclidean_cost,
)
from deepnag.loss.soft_dtw_cpu import soft_dtw_cpu

log = logging.getLogger(__name__)

__all__ = ["soft_dtw", "soft_dtw_pairs", "soft_dtw_divergence", "sakoe_chiba_band", "sakoe_chiba_mask", "SoftDTW",
           "squared_euclidean_cost", "cosine_cost"]


# ----------------------------------------------------------------------------------------------------------------------
# Checks and the band
# ----------------------------------------------------------------------------------------------------------------------
def check_gamma(gamma: float) -> float:
    """γ must be a finite number > 0 (γ → 0 is hard DTW, γ = 0 divides by zero)."""
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise UserError(f"soft-DTW gamma must be a number > 0; got {gamma!r}") from None
    if not (math.isfinite(g) and g > 0):
        raise UserError(f"soft-DTW gamma must be a finite number > 0; got {gamma!r}")
    return g


def check_bandwidth(bandwidth: float | None) -> float | None:
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
    lo, hi = sakoe_chiba_band(n, m, check_bandwidth(bandwidth))
    j = np.arange(m)
    return torch.from_numpy((j[None, :] >= lo[:, None]) & (j[None, :] <= hi[:, None]))


def _band(n: int, m: int, bandwidth: float | None) -> tuple[np.ndarray, np.ndarray, bool]:
    lo, hi = sakoe_chiba_band(n, m, bandwidth)
    full = bool(lo[0] == 0 and (lo == 0).all() and (hi == m - 1).all())
    return lo, hi, full


# ----------------------------------------------------------------------------------------------------------------------
# Dispatch
# ----------------------------------------------------------------------------------------------------------------------
FEATURE_MAX_DIM = 8
"""Up to this many features the CPU kernel builds the cost from the sequences themselves
(no Gram matrix in, no E out, no matrix products); above it, torch's bmm does the products."""


class _Result(NamedTuple):
    val: Tensor
    E: Tensor | None = None  # dvalue/dcost (P,N,M), Gram input
    gf: Tensor | None = None  # kappa E g (P,N,D), feature input
    gg: Tensor | None = None  # kappa Eᵀ f (P,M,D), feature input
    rs: Tensor | None = None  # E summed over j (P,N)
    cs: Tensor | None = None  # E summed over i (P,M)


def _run(G: Tensor | None, alpha: Tensor, beta: Tensor, kappa: float, gamma: float, bandwidth: float | None,
         want_grad: bool, f: Tensor | None = None, g: Tensor | None = None) -> _Result:
    """Soft-DTW of ``kappa*G + alpha[:,:,None] + beta[:,None,:]`` (G = f gᵀ when G is None) on the inputs' device."""
    P, N, M = alpha.shape[0], alpha.shape[1], beta.shape[1]
    lo, hi, full = _band(N, M, bandwidth)
    if alpha.is_cuda:
        if G is None:
            G = torch.bmm(f, g.transpose(1, 2))
        cost = (alpha.unsqueeze(2) + beta.unsqueeze(1)).add_(G, alpha=kappa)
        if not bool(torch.isfinite(cost).all()):
            raise UserError("soft-DTW input contains NaN or inf values")
        val, E = soft_dtw_device.kernel_on(cost.device)(cost, lo, hi, gamma, want_grad)
        if E is None:
            return _Result(val)
        return _Result(val, E, rs=E.sum(2), cs=E.sum(1))
    if alpha.device.type != "cpu":
        raise UserError(f"soft-DTW runs on CPU or CUDA tensors; got device {alpha.device}")

    def arr(t: Tensor | None) -> np.ndarray | None:
        return None if t is None else t.detach().contiguous().numpy()

    a = arr(alpha)
    out_E = np.zeros((P, N, M), a.dtype) if (want_grad and G is not None and not full) else None
    res = soft_dtw_cpu(arr(G), a, arr(beta), kappa, lo, hi, gamma, want_grad, torch.get_num_threads(), out_E,
                       arr(f), arr(g))
    if not np.isfinite(res.bad).all():
        raise UserError("soft-DTW input contains NaN or inf values")
    return _Result(*(None if r is None else torch.from_numpy(r) for r in (res.val, res.E, res.gf, res.gg, res.rs,
                                                                             res.cs)))


def _squared_norms(x: Tensor) -> Tensor:
    """‖x_i‖² over the last axis, (P,N,D) → (P,N), without a (P,N,D) temporary (none is needed for gradients)."""
    return torch.linalg.vector_norm(x, dim=-1).square_()


def _input_grad(x: Tensor, other: Tensor, E: Tensor | None, kernel_grad: Tensor | None, sums: Tensor, kappa: float,
                scale: Tensor, ed: bool) -> Tensor:
    """Gradient of the pairs' values with respect to one side x, times the upstream gradient ``scale`` (P,1,1).

    kappa·E·other (from the kernel's ``kernel_grad`` on the feature path, one bmm on the Gram path), plus for
    'ed' the squared norms' part 2·sums·x; built in one buffer, as for large D every temporary is an
    (P,N,D) array.
    """
    if kernel_grad is not None:
        grad = kernel_grad * scale
    else:
        grad = torch.bmm(E, other).mul_(kappa * scale)
    if ed:
        grad.addcmul_(x, (2 * sums).unsqueeze(2) * scale)
    return grad


class _SoftDTWFunction(torch.autograd.Function):
    """Soft-DTW of dense cost matrices; gradient E scaled by the upstream gradient."""

    @staticmethod
    def forward(ctx, cost: Tensor, gamma: float, bandwidth: float | None) -> Tensor:  # type: ignore[override]
        P, N, M = cost.shape
        res = _run(cost, cost.new_zeros(P, N), cost.new_zeros(P, M), 1.0, gamma, bandwidth, ctx.needs_input_grad[0])
        if res.E is not None:
            ctx.save_for_backward(res.E)
        return res.val

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        (E,) = ctx.saved_tensors
        return E * grad.view(-1, 1, 1), None, None


class _FeatureSoftDTWFunction(torch.autograd.Function):
    """Soft-DTW between feature sequences f (P,N,D) and g (P,M,D), cost built in the kernel.

    'ed': cost ‖f_i‖² + ‖g_j‖² − 2 f_i·g_j; 'cos' (f, g unit directions): cost 1 − f_i·g_j.
    The norms are computed here, not by autograd, and their gradient (2 rowsum(E) f) is
    folded into the one product with E, which keeps small torch operations off the path.
    """

    @staticmethod
    def forward(ctx, f: Tensor, g: Tensor, distance: str, gamma: float,  # type: ignore[override]
                bandwidth: float | None) -> Tensor:
        want_f, want_g = ctx.needs_input_grad[:2]
        if distance == "ed":  # squared norms without an (P,N,D) temporary
            alpha, beta, kappa = _squared_norms(f), _squared_norms(g), -2.0
        else:
            alpha, beta, kappa = f.new_ones(f.shape[:2]), g.new_zeros(g.shape[:2]), -1.0
        if f.is_cuda or f.shape[2] > FEATURE_MAX_DIM:
            res = _run(torch.bmm(f, g.transpose(1, 2)), alpha, beta, kappa, gamma, bandwidth, want_f or want_g)
        else:
            res = _run(None, alpha, beta, kappa, gamma, bandwidth, want_f or want_g, f, g)
        if want_f or want_g:
            ctx.save_for_backward(f, g, res.E, res.gf, res.gg, res.rs, res.cs)
        ctx.kappa, ctx.distance = kappa, distance
        return res.val

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        f, g, E, gf, gg, rs, cs = ctx.saved_tensors
        want_f, want_g = ctx.needs_input_grad[:2]
        scale = grad.view(-1, 1, 1)
        ed = ctx.distance == "ed"
        grad_f = _input_grad(f, g, E, gf, rs, ctx.kappa, scale, ed) if want_f else None
        Et = None if E is None else E.transpose(1, 2)
        grad_g = _input_grad(g, f, Et, gg, cs, ctx.kappa, scale, ed) if want_g else None
        return grad_f, grad_g, None, None, None


def soft_dtw_features(f: Tensor, g: Tensor, distance: str, gamma: float, bandwidth: float | None) -> Tensor:
    """Soft-DTW between already-validated feature sequences (see ``costs.features``)."""
    if f.shape[0] == 0:
        return f.new_zeros(0)
    return _FeatureSoftDTWFunction.apply(f.contiguous(), g.contiguous(), distance, gamma, bandwidth)


# ----------------------------------------------------------------------------------------------------------------------
# Functional face
# ----------------------------------------------------------------------------------------------------------------------
def soft_dtw(cost: Tensor, gamma: float, bandwidth: float | None = None) -> Tensor:
    """Soft-DTW value of each (N, M) cost matrix of a (P, N, M) batch → (P,); differentiable in the cost."""
    gamma = check_gamma(gamma)
    bandwidth = check_bandwidth(bandwidth)
    if not isinstance(cost, Tensor) or cost.dim() != 3:
        raise UserError(f"soft-DTW cost must be a 3-D tensor (pairs, N, M); got {getattr(cost, 'shape', type(cost))}")
    if cost.shape[1] == 0 or cost.shape[2] == 0:
        raise UserError(f"soft-DTW needs non-empty sequences; got cost matrices of shape {tuple(cost.shape[1:])}")
    if cost.dtype not in (torch.float32, torch.float64):
        raise UserError(f"soft-DTW cost must be float32 or float64; got {cost.dtype}")
    if cost.shape[0] == 0:
        return cost.new_zeros(0)
    return _SoftDTWFunction.apply(cost, gamma, bandwidth)


def soft_dtw_pairs(x: Tensor, y: Tensor, gamma: float, distance: str = "ed", bandwidth: float | None = None) -> Tensor:
    """Soft-DTW between x[p] (N,D) and y[p] (M,D) for every p → (P,), cost 'ed' or 'cos' built in the kernel.

    Same value as ``soft_dtw(squared_euclidean_cost(x, y), ...)`` (or ``cosine_cost``), without the dense cost.
    """
    gamma = check_gamma(gamma)
    bandwidth = check_bandwidth(bandwidth)
    if distance not in TERMS:
        raise UserError(f"soft-DTW distance must be one of {sorted(TERMS)}; got {distance!r}")
    check_sequences(x, y, min_length=2 if distance == "cos" else 1)
    return soft_dtw_features(features(x, distance), features(y, distance), distance, gamma, bandwidth)


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

    def __init__(self, gamma: float = Config.gamma, distance: str = "ed", bandwidth: float | None = None,
                 normalize: bool = False) -> None:
        super().__init__()
        self.gamma = check_gamma(gamma)
        self.bandwidth = check_bandwidth(bandwidth)
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
