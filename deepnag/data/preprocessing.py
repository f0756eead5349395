"""Preprocessing (METHOD.md §1): per-feature min-max normalisation and $1 spatial resampling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class MinMaxNormalizer:
    """Maps every feature to [-1, 1] with `x' = 2 (x - min) / (max - min) - 1`.

    Stored as centre and half-range, so a constant feature (max == min) maps to 0
    instead of dividing by zero. The factors travel with a trained model.
    """

    minimum: np.ndarray
    maximum: np.ndarray

    @classmethod
    def fit(cls, sequences: Sequence[np.ndarray]) -> "MinMaxNormalizer":
        """Factors from every raw point of every training sample."""
        points = np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences], axis=0)
        return cls(points.min(axis=0), points.max(axis=0))

    @property
    def _centre(self) -> np.ndarray:
        return (self.maximum + self.minimum) / 2.0

    @property
    def _half_range(self) -> np.ndarray:
        half = (self.maximum - self.minimum) / 2.0
        return np.where(half > 0, half, 1.0)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Data units → normalised units (any leading shape, features last)."""
        return (np.asarray(x, dtype=np.float64) - self._centre) / self._half_range

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Normalised units → data units."""
        return np.asarray(x, dtype=np.float64) * self._half_range + self._centre


def resample(sequences: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Resample each polyline to `n` points equally spaced along its path.

    The $1 recogniser's resampling (Wobbrock et al., UIST 2007): emitting a point
    every L/(n-1) of arc length is interpolation at the arc lengths k L/(n-1).
    Endpoints are kept; a zero-length path repeats its point. Returns an array
    (S, n, D) of float64.
    """
    if n < 2:
        raise ValueError(f"resample needs n >= 2, got {n}")
    if len(sequences) == 0:
        raise ValueError("resample needs at least one sequence")
    fractions = np.broadcast_to(np.linspace(0.0, 1.0, n), (len(sequences), n))
    return resample_at(sequences, fractions)


def resample_at(sequences: Sequence[np.ndarray], fractions: np.ndarray) -> np.ndarray:
    """The point of each polyline at the given fractions of its arc length, (S, m) in [0, 1] → (S, m, D) float64.

    Linear interpolation along the path, for all samples at once (one global
    searchsorted), for any number of features. Fractions 0 and 1 give exactly the
    first and last points; a zero-length path repeats its point.
    """
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.ndim != 2 or len(fractions) != len(sequences):
        raise ValueError(f"fractions must be (S, m) for S = {len(sequences)} sequences, got {fractions.shape}")
    if len(sequences) == 0:
        raise ValueError("resample needs at least one sequence")
    lengths = np.array([len(s) for s in sequences])
    if lengths.min() < 1:
        raise ValueError("resample needs sequences with at least one point")
    points = np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences], axis=0)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    ends = starts + lengths - 1  # index of each sample's last point

    # Arc length at every point, restarting at 0 at each sample's first point.
    step = np.zeros(len(points))
    step[1:] = np.linalg.norm(np.diff(points, axis=0), axis=1)
    step[starts] = 0.0
    arc = np.cumsum(step)
    arc -= np.repeat(arc[starts], lengths)
    total = arc[ends]

    # Lay samples end to end on one increasing axis, separated by a gap of 1,
    # so a single searchsorted finds every target's segment.
    offset = np.concatenate(([0.0], np.cumsum(total + 1.0)[:-1]))
    axis = arc + np.repeat(offset, lengths)
    targets = offset[:, None] + total[:, None] * np.clip(fractions, 0.0, 1.0)  # (S, m)
    left = np.searchsorted(axis, targets.ravel(), side="right").reshape(targets.shape) - 1
    lo = starts[:, None]
    hi = np.maximum(ends - 1, starts)[:, None]  # last valid segment start
    left = np.clip(left, lo, hi)
    right = np.minimum(left + 1, ends[:, None])
    width = axis[right] - axis[left]
    t = np.divide(targets - axis[left], width, out=np.zeros_like(width), where=width > 0)
    t = np.clip(t, 0.0, 1.0)[..., None]
    out = points[left] * (1.0 - t) + points[right] * t
    first, last = fractions <= 0.0, fractions >= 1.0
    out[first] = np.broadcast_to(points[starts][:, None], out.shape)[first]
    out[last] = np.broadcast_to(points[ends][:, None], out.shape)[last]
    return out
