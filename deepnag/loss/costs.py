"""Cost matrices between time steps for soft-DTW: squared Euclidean and cosine.

Both costs are "bilinear": ``cost[p,i,j] = alpha[p,i] + beta[p,j] + kappa * <f[p,i], g[p,j]>``.
The soft-DTW kernels take the terms (features, alpha, beta, kappa) and assemble each
cell themselves, so neither a B×N×M×D difference tensor (the reference's way) nor,
on the fast path, a dense cost tensor is ever built. The dense functions below are
for callers that want the matrices themselves.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from deepnag.errors import UserError

DIRECTION_EPS = 1e-8
"""Directions shorter than this count as zero vectors (cosine cost 1), as torch's CosineSimilarity does."""


class BilinearTerms(NamedTuple):
    """``cost[p,i,j] = alpha[p,i] + beta[p,j] + kappa * f[p,i]·g[p,j]``."""

    f: Tensor  # (P, N, D)
    g: Tensor  # (P, M, D)
    alpha: Tensor  # (P, N)
    beta: Tensor  # (P, M)
    kappa: float

    def dense(self) -> Tensor:
        """The (P, N, M) cost matrix, with autograd."""
        return torch.baddbmm(self.alpha.unsqueeze(2) + self.beta.unsqueeze(1), self.f, self.g.transpose(1, 2),
                             alpha=self.kappa)


def check_sequences(x: Tensor, y: Tensor, what: str = "x and y", min_length: int = 1) -> None:
    """Raise UserError unless x (P,N,D) and y (P,M,D) are batches of sequences that can be compared."""
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise UserError(f"{what} must be torch tensors")
    if x.dim() != 3 or y.dim() != 3:
        raise UserError(f"{what} must be 3-D (batch, time, features); got shapes {tuple(x.shape)} and {tuple(y.shape)}")
    if x.shape[0] != y.shape[0]:
        raise UserError(f"{what} must have the same batch size; got {x.shape[0]} and {y.shape[0]}")
    if x.shape[2] != y.shape[2]:
        raise UserError(f"{what} must have the same number of features; got {x.shape[2]} and {y.shape[2]}")
    if x.shape[2] == 0:
        raise UserError(f"{what} have no features")
    if x.shape[1] < min_length or y.shape[1] < min_length:
        raise UserError(f"{what} need at least {min_length} time step(s); got lengths {x.shape[1]} and {y.shape[1]}")
    if x.dtype != y.dtype:
        raise UserError(f"{what} must have the same dtype; got {x.dtype} and {y.dtype}")
    if x.dtype not in (torch.float32, torch.float64):
        raise UserError(f"{what} must be float32 or float64; got {x.dtype}")
    if x.device != y.device:
        raise UserError(f"{what} must be on the same device; got {x.device} and {y.device}")


def squared_euclidean_terms(x: Tensor, y: Tensor) -> BilinearTerms:
    """Terms of ‖x_i − y_j‖² = ‖x_i‖² + ‖y_j‖² − 2 x_i·y_j (a D-fold smaller memory footprint than x − y)."""
    check_sequences(x, y)
    return BilinearTerms(x, y, (x * x).sum(-1), (y * y).sum(-1), -2.0)


def directions(x: Tensor, eps: float = DIRECTION_EPS) -> Tensor:
    """Unit direction vectors (x[t+1] − x[t]) / ‖·‖, zero where the step is shorter than eps."""
    d = x[:, 1:] - x[:, :-1]
    return d / d.norm(dim=-1, keepdim=True).clamp_min(eps)


def cosine_terms(x: Tensor, y: Tensor, eps: float = DIRECTION_EPS) -> BilinearTerms:
    """Terms of 1 − cos(Δx_i, Δy_j) over direction vectors: f, g unit directions, alpha = 1, beta = 0."""
    check_sequences(x, y, min_length=2)
    u, v = directions(x, eps), directions(y, eps)
    return BilinearTerms(u, v, u.new_ones(u.shape[:2]), v.new_zeros(v.shape[:2]), -1.0)


def squared_euclidean_cost(x: Tensor, y: Tensor) -> Tensor:
    """(P,N,M) squared Euclidean distances between the time steps of x (P,N,D) and y (P,M,D).

    Computed as ‖x‖² + ‖y‖² − 2x·y (no P×N×M×D tensor), clamped at 0 against rounding.
    """
    return squared_euclidean_terms(x, y).dense().clamp_min(0.0)


def cosine_cost(x: Tensor, y: Tensor, eps: float = DIRECTION_EPS) -> Tensor:
    """(P,N−1,M−1) cost 1 − cosine similarity between the direction vectors of x and y.

    Takes the points and differences them itself (x[t+1] − x[t]); a step shorter than
    eps has no direction and costs 1 against everything (torch's CosineSimilarity does the same).
    """
    return cosine_terms(x, y, eps).dense()


TERMS = {"ed": squared_euclidean_terms, "cos": cosine_terms}
"""Distance names used by the loss (METHOD.md §3: 'ed' and 'cos') → their bilinear terms."""


def features(x: Tensor, distance: str, eps: float = DIRECTION_EPS) -> Tensor:
    """What the kernel compares for a distance: the points ('ed') or their unit directions ('cos')."""
    return x if distance == "ed" else directions(x, eps)
