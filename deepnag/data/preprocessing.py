"""Preprocessing (METHOD.md §1): per-feature min-max normalisation and $1 spatial resampling.

Pen data with a pen state (MMG's (T, 3) samples: x, y, and 1 while the pen is
down, 0 at the first point of every stroke after the first; `deepnag.data.mmg`)
is resampled stroke by stroke (`resample_strokes`): every stroke keeps its two
ends, the rest of the n points go to the strokes in proportion to their length,
so pen-up jumps carry no length and get no points, and the pen state of every
resampled point is exact (0 or 1), never interpolated. `is_pen_data` tells such
data from coordinates: three features, the third only ever 0 or 1. The
normaliser gives the generator the pen state as the stroke's parity
(`stroke_parity`): a pen-up then changes a whole stroke's worth of targets, not one point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from deepnag.data.mmg import PEN_DOWN, PEN_THRESHOLD, PEN_UP

PEN_FEATURE = 2
"""The column of the pen state in pen data (after x and y)."""
PEN_LEVEL = 0.5
"""The stroke parity in normalised units: +this on a sample's 1st, 3rd … stroke, -this on its 2nd, 4th …. Not ±1:
a target of 1 drove the generator's tanh into saturation (no gradient left to change it; measured)."""


def stroke_parity(states: np.ndarray) -> np.ndarray:
    """Pen states (..., T) → each point's stroke parity (..., T): +PEN_LEVEL on odd strokes, -PEN_LEVEL on even ones.

    The generator's view of the pen: a pen-up as one point of 64 was too small a
    target for the loss to teach (every generated pen state stayed above 0.89
    after 10 epochs; METHOD.md, multistroke), while a parity flips every later point.
    """
    ups = np.asarray(states) < PEN_THRESHOLD
    ups[..., 0] = False
    return np.where(np.cumsum(ups, axis=-1) % 2 == 0, PEN_LEVEL, -PEN_LEVEL)


def pen_states(parity: np.ndarray) -> np.ndarray:
    """Stroke parities (..., T), exact or generated → pen states (..., T): 0 where the sign flips, 1 elsewhere."""
    side = np.asarray(parity) >= 0.0
    states = np.full(side.shape, PEN_DOWN)
    states[..., 1:][side[..., 1:] != side[..., :-1]] = PEN_UP
    return states


@dataclass(frozen=True)
class MinMaxNormalizer:
    """Maps every feature to [-1, 1] with `x' = 2 (x - min) / (max - min) - 1`.

    Stored as centre and half-range, so a constant feature (max == min) maps to 0
    instead of dividing by zero. The factors travel with a trained model. With
    `pen`, the third feature is a pen state, mapped to its stroke parity and back
    (`stroke_parity`, `pen_states`) whatever its factors.
    """

    minimum: np.ndarray
    maximum: np.ndarray
    pen: bool = False

    @classmethod
    def fit(cls, sequences: Sequence[np.ndarray], pen: bool | None = None) -> "MinMaxNormalizer":
        """Factors from every raw point of every training sample; `pen`: whether the third feature is a pen state
        (None: whether the samples are pen data, `is_pen_data`)."""
        points = np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences], axis=0)
        return cls(points.min(axis=0), points.max(axis=0), is_pen_data(sequences) if pen is None else pen)

    @property
    def _centre(self) -> np.ndarray:
        return (self.maximum + self.minimum) / 2.0

    @property
    def _half_range(self) -> np.ndarray:
        half = (self.maximum - self.minimum) / 2.0
        return np.where(half > 0, half, 1.0)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Data units → normalised units (any leading shape, points then features last)."""
        x = np.asarray(x, dtype=np.float64)
        out = (x - self._centre) / self._half_range
        if self.pen:
            out[..., PEN_FEATURE] = stroke_parity(x[..., PEN_FEATURE])
        return out

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Normalised units → data units."""
        x = np.asarray(x, dtype=np.float64)
        out = x * self._half_range + self._centre
        if self.pen:
            out[..., PEN_FEATURE] = pen_states(x[..., PEN_FEATURE])
        return out


def resample(sequences: Sequence[np.ndarray], n: int, pen: bool | None = None) -> np.ndarray:
    """Resample each polyline to `n` points equally spaced along its path.

    The $1 recogniser's resampling (Wobbrock et al., UIST 2007): emitting a point
    every L/(n-1) of arc length is interpolation at the arc lengths k L/(n-1).
    Endpoints are kept; a zero-length path repeats its point. Returns an array
    (S, n, D) of float64. Pen data (`pen`, by default `is_pen_data`) is resampled
    stroke by stroke instead (`resample_strokes`).
    """
    if n < 2:
        raise ValueError(f"resample needs n >= 2, got {n}")
    if len(sequences) == 0:
        raise ValueError("resample needs at least one sequence")
    if is_pen_data(sequences) if pen is None else pen:
        return resample_strokes(sequences, n)
    fractions = np.broadcast_to(np.linspace(0.0, 1.0, n), (len(sequences), n))
    return resample_at(sequences, fractions)


def normalised(sequences: Sequence[np.ndarray], n: int, normalizer: MinMaxNormalizer) -> np.ndarray:
    """Raw samples as the generator sees them, (S, n, D): normalised then resampled to n points (METHOD.md §1); pen
    data (`normalizer.pen`) the other way round, its strokes resampled along their own paths in the data's units
    (pixels, as $P) before the pen state becomes the stroke parity."""
    if normalizer.pen:
        return normalizer.transform(resample(sequences, n, pen=True))
    return resample([normalizer.transform(s) for s in sequences], n, pen=False)


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


# ----------------------------------------------------------------------------------------------------------------------
# Pen data: strokes and a pen state
# ----------------------------------------------------------------------------------------------------------------------
def is_pen_data(sequences: Sequence[np.ndarray]) -> bool:
    """Whether samples are pen strokes with a pen state: each (T, 3), the third feature only ever 0 or 1."""
    arrays = [np.asarray(s) for s in sequences]
    if not arrays or any(a.ndim != 2 or a.shape[1] != 3 or len(a) == 0 for a in arrays):
        return False
    pens = np.concatenate([a[:, PEN_FEATURE] for a in arrays])
    return bool(((pens == PEN_UP) | (pens == PEN_DOWN)).all())


def split_strokes(sequences: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Every sample's strokes ((T_i, 2) arrays, split before each point i ≥ 1 whose pen state is below 0.5), all
    samples end to end, and the number of strokes of each sample."""
    strokes, counts = [], []
    for sample in sequences:
        sample = np.asarray(sample, dtype=np.float64)
        ups = np.flatnonzero(sample[1:, PEN_FEATURE] < PEN_THRESHOLD) + 1
        strokes.extend(np.split(sample[:, :PEN_FEATURE], ups))
        counts.append(len(ups) + 1)
    return strokes, np.array(counts)


def stroke_lengths(strokes: Sequence[np.ndarray]) -> np.ndarray:
    """The arc length of each stroke, (K,)."""
    return np.array([np.linalg.norm(np.diff(s, axis=0), axis=1).sum() for s in strokes])


def allocate_points(lengths: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """How many of a sample's n points each of its strokes gets: two each (its ends; one each when n < 2K), the rest
    in proportion to the strokes' lengths (largest remainder, ties to the earlier stroke); with more strokes than
    points (K > n) the n longest get one each and the others none. `lengths` are all samples' strokes end to end,
    `counts` the strokes per sample; returns (K_total,) ints summing to n per sample."""
    out = np.zeros(len(lengths), dtype=np.int64)
    for first, k in zip(np.cumsum(counts) - counts, counts):
        share, mine = out[first:first + k], lengths[first:first + k]
        if k > n:
            share[np.sort(np.argsort(-mine, kind="stable")[:n])] = 1
            continue
        share[:] = min(2, n // k)
        spare, total = n - share.sum(), mine.sum()
        weights = mine / total if total > 0 else np.full(k, 1.0 / k)
        exact = spare * weights
        extra = np.floor(exact).astype(np.int64)
        extra[np.argsort(-(exact - extra), kind="stable")[:spare - extra.sum()]] += 1
        share += extra
    return out


def join_strokes(points: np.ndarray, allocated: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """Strokes' resampled points (ΣK_i rows, each padded to the longest allocation) as (S, n, 3) samples with a pen
    state: 0 at the first point of every stroke after a sample's first, 1 elsewhere."""
    keep = np.arange(points.shape[1])[None, :] < allocated[:, None]
    xy = points[keep].reshape(len(counts), n, 2)
    pen = np.where(np.arange(points.shape[1])[None, :] == 0, PEN_UP, PEN_DOWN)
    pen = np.broadcast_to(pen, keep.shape)[keep].reshape(len(counts), n)
    pen[:, 0] = PEN_DOWN
    return np.concatenate([xy, pen[..., None]], axis=2)


def resample_strokes(sequences: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Pen samples (T, 3) → (S, n, 3): each stroke resampled along its own path to its share of the n points
    (`allocate_points`: its two ends kept), strokes joined in drawing order, the pen state exact."""
    if n < 2:
        raise ValueError(f"resample needs n >= 2, got {n}")
    strokes, counts = split_strokes(sequences)
    allocated = allocate_points(stroke_lengths(strokes), counts, n)
    width = int(allocated.max())
    ramp = np.arange(width)[None, :] / np.maximum(allocated - 1, 1)[:, None]
    points = resample_at(strokes, np.minimum(ramp, 1.0))
    return join_strokes(points, allocated, counts, n)
