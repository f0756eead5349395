"""Class-aware Hausdorff distances between two labelled batches of sequences (METHOD.md §3).

With a_i = min over same-class j of m(A_i, B_j), b_j = min over same-class i of m(A_i, B_j)
and n_c the count of class c in the batch:

    ahd = Σ_c n_c · ½(mean_{i∈c} a_i + mean_{j∈c} b_j)  = ½(Σ_i a_i + Σ_j b_j)
    mhd = Σ_c n_c · max(mean_{i∈c} a_i, mean_{j∈c} b_j)
    hd  = Σ_c n_c · max(max_{i∈c} a_i, max_{j∈c} b_j)

m is soft-DTW with the squared Euclidean ('ed') or direction-cosine ('cos') cost.
Soft-DTW runs only on the same-class pairs (about B²/C of them), never on all B²
pairs followed by a mask as the reference does.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepnag.config import Config
from deepnag.errors import UserError
from deepnag.loss.costs import TERMS, check_sequences, features
from deepnag.loss.soft_dtw_autograd import check_bandwidth, check_gamma, soft_dtw_features

VARIANTS = ("ahd", "mhd", "hd")


def same_class_pairs(labels: Tensor) -> tuple[Tensor, Tensor]:
    """Indices (i, j) of all ordered pairs with labels[i] == labels[j], i and j included."""
    same = labels.unsqueeze(1) == labels.unsqueeze(0)
    i, j = same.nonzero(as_tuple=True)
    return i, j


def _checked_options(distance: str, variant: str, gamma: float, bandwidth: float | None) -> tuple[float, float | None]:
    """The Hausdorff distance's settings checked (one-line errors), as (gamma, bandwidth)."""
    gamma = check_gamma(gamma)
    bandwidth = check_bandwidth(bandwidth)
    if distance not in TERMS:
        raise UserError(f"Hausdorff distance must use one of {sorted(TERMS)}; got {distance!r}")
    if variant not in VARIANTS:
        raise UserError(f"Hausdorff variant must be one of {list(VARIANTS)}; got {variant!r}")
    return gamma, bandwidth


def class_aware_hausdorff(a: Tensor, b: Tensor, labels: Tensor, distance: str = "ed", gamma: float = Config.gamma,
                          variant: str = "ahd", bandwidth: float | None = None) -> Tensor:
    """Class-aware Hausdorff distance (a sum over the batch) between a (B,n,D) and b (B,m,D) sharing labels (B,)."""
    gamma, bandwidth = _checked_options(distance, variant, gamma, bandwidth)
    check_sequences(a, b, "the two batches")
    if not isinstance(labels, Tensor) or labels.dim() != 1 or labels.shape[0] != a.shape[0]:
        raise UserError(f"labels must be a 1-D tensor with one label per sample ({a.shape[0]}); "
                        f"got shape {tuple(getattr(labels, 'shape', ()))}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise UserError(f"labels must be integers; got {labels.dtype}")
    if a.shape[0] == 0:
        raise UserError("class-aware Hausdorff distance of an empty batch")
    labels = labels.to(a.device)
    B = a.shape[0]

    if distance == "cos":
        check_sequences(a, b, "the two batches", min_length=2)
    # the features (points or directions) are computed once on the batch, then gathered per pair with index_select:
    # its backward (index_add) sums the pairs' gradients in a fixed order, where indexing's (an accumulating
    # index_put) adds them in whatever order the threads run, so that seeded runs would differ in the last bits
    i, j = same_class_pairs(labels)
    d = soft_dtw_features(features(a, distance).index_select(0, i), features(b, distance).index_select(0, j), distance,
                          gamma, bandwidth)

    dm = torch.full((B, B), float("inf"), dtype=d.dtype, device=d.device).index_put((i, j), d)
    a_min = dm.min(dim=1).values  # a_i: closest same-class b to each a
    b_min = dm.min(dim=0).values  # b_j: closest same-class a to each b
    if variant == "ahd":
        return 0.5 * (a_min.sum() + b_min.sum())

    _, cls, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    n_c = counts.to(d.dtype)
    if variant == "mhd":
        mean_a = torch.zeros_like(n_c).index_add(0, cls, a_min) / n_c
        mean_b = torch.zeros_like(n_c).index_add(0, cls, b_min) / n_c
        return (n_c * torch.maximum(mean_a, mean_b)).sum()
    lowest = torch.full_like(n_c, float("-inf"))
    max_a = lowest.scatter_reduce(0, cls, a_min, reduce="amax")
    max_b = lowest.scatter_reduce(0, cls, b_min, reduce="amax")
    return (n_c * torch.maximum(max_a, max_b)).sum()


class ClassAwareHausdorff(nn.Module):
    """Module over ``class_aware_hausdorff``: forward(a, b, labels) → scalar."""

    def __init__(self, distance: str = "ed", gamma: float = Config.gamma, variant: str = "ahd",
                 bandwidth: float | None = None) -> None:
        super().__init__()
        self.distance, self.variant = distance, variant
        self.gamma, self.bandwidth = _checked_options(distance, variant, gamma, bandwidth)

    def forward(self, a: Tensor, b: Tensor, labels: Tensor) -> Tensor:
        return class_aware_hausdorff(a, b, labels, self.distance, self.gamma, self.variant, self.bandwidth)

    def extra_repr(self) -> str:
        return f"distance={self.distance!r}, gamma={self.gamma}, variant={self.variant!r}, bandwidth={self.bandwidth}"
