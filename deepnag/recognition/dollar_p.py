"""$P, the point-cloud recogniser for multistroke gestures, vectorised over (query, template) pairs.

Radu-Daniel Vatavu, Lisa Anthony and Jacob O. Wobbrock, "Gestures as point
clouds: a $P recognizer for user interface prototypes", ICMI 2012. A gesture is
a cloud of points, blind to the order and direction of its strokes:

- NORMALIZE: resample to n = 32 points equally spaced along the strokes' path
  (the jumps between strokes count for no length and get no points), scale
  uniformly by the larger side of the bounding box, translate the centroid to
  the origin;
- GREEDY-CLOUD-MATCH: for every start i = 0, step, 2·step, … < n with
  step = ⌊n^(1−ε)⌋, ε = 0.5, match each point of one cloud in turn (from the
  start, cyclically) to the closest point of the other not matched yet, summing
  the distances with weights 1 − ((i − start + n) mod n)/n; the distance is the
  least such sum over starts and both directions (cloud → template, template →
  cloud).

The greedy matching is sequential in the n points (one NumPy step per point),
and each step runs over all pairs, starts and directions of a block at once.

Samples are (T, 3) arrays of x, y and the pen state of `deepnag.data.mmg` (a
point whose pen state is below 0.5 starts a new stroke), or (T, 2) arrays,
one stroke each.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from deepnag.data.mmg import PEN_THRESHOLD
from deepnag.recognition.recognizers import PAIR_CHUNK, NearestNeighbour

log = logging.getLogger(__name__)

EPSILON = 0.5
"""$P's ε: the number of starts GREEDY-CLOUD-MATCH tries is about n^ε."""


def _flat_points(samples: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All samples' x, y end to end, whether the pen moved down to each point, and each sample's length."""
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]
    for array in arrays:
        if array.ndim != 2 or array.shape[1] not in (2, 3) or len(array) == 0:
            raise ValueError(f"$P takes (T, 2) or (T, 3) samples (x, y, pen state) of T ≥ 1, got {array.shape}")
    lengths = np.array([len(a) for a in arrays])
    points = np.concatenate([a[:, :2] for a in arrays])
    drawn = np.concatenate([a[:, 2] >= PEN_THRESHOLD if a.shape[1] == 3 else np.ones(len(a), bool) for a in arrays])
    return points, drawn, lengths


def resample_strokes(samples: Sequence[np.ndarray], n: int) -> np.ndarray:
    """$P's RESAMPLE for all samples at once: n points equally spaced along the strokes, (S, n, 2).

    The path length counts only the segments drawn with the pen down; a target
    that falls on a jump lands on the next stroke's first point (the jump has no
    length). The first and last points are kept; a path of no length repeats its
    first point.
    """
    if n < 2:
        raise ValueError(f"$P needs n >= 2, got {n}")
    if len(samples) == 0:
        raise ValueError("$P needs at least one sample")
    points, drawn, lengths = _flat_points(samples)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    ends = starts + lengths - 1
    step = np.zeros(len(points))
    step[1:] = np.linalg.norm(np.diff(points, axis=0), axis=1)
    step[~drawn] = 0.0  # the jump to a stroke's first point
    step[starts] = 0.0
    arc = np.cumsum(step)
    arc -= np.repeat(arc[starts], lengths)
    total = arc[ends]
    offset = np.concatenate(([0.0], np.cumsum(total + 1.0)[:-1]))  # samples end to end, a gap of 1 apart
    axis = arc + np.repeat(offset, lengths)
    targets = offset[:, None] + total[:, None] * np.linspace(0.0, 1.0, n)[None, :]
    left = np.searchsorted(axis, targets.ravel(), side="right").reshape(targets.shape) - 1
    left = np.clip(left, starts[:, None], np.maximum(ends - 1, starts)[:, None])
    right = np.minimum(left + 1, ends[:, None])
    width = axis[right] - axis[left]
    t = np.divide(targets - axis[left], width, out=np.zeros_like(width), where=width > 0)
    t = np.clip(t, 0.0, 1.0)[..., None]
    out = points[left] * (1.0 - t) + points[right] * t
    out[:, 0], out[:, -1] = points[starts], points[ends]
    return out


def normalize(samples: Sequence[np.ndarray], n: int = 32) -> np.ndarray:
    """$P's NORMALIZE: resample to n points, scale by the larger bounding-box side, centroid to the origin; (S, n, 2)."""
    clouds = resample_strokes(samples, n)
    low = clouds.min(axis=1, keepdims=True)
    side = (clouds.max(axis=1, keepdims=True) - low).max(axis=2, keepdims=True)
    clouds = (clouds - low) / np.where(side > 0, side, 1.0)
    return clouds - clouds.mean(axis=1, keepdims=True)


def starts_of(n: int, epsilon: float = EPSILON) -> np.ndarray:
    """The start indices GREEDY-CLOUD-MATCH tries: 0, step, 2·step, … < n, step = ⌊n^(1−ε)⌋."""
    return np.arange(0, n, max(1, math.floor(n ** (1.0 - epsilon))))


def _doubled_costs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(2, 2n, P, n): [0, i, p] the distances from a_i to every b_j, [1, i, p] from b_i to every a_j; rows i ≥ n
    repeat rows i − n, so the points a start walks through, cyclically, are consecutive rows."""
    num, n, _ = a.shape
    out = np.empty((2, 2 * n, num, n))
    cost = out[0, :n]  # (n, P, n)
    np.subtract(a[:, :, 0].T[:, :, None], b[None, :, :, 0], out=cost)
    dy = a[:, :, 1].T[:, :, None] - b[None, :, :, 1]
    np.multiply(cost, cost, out=cost)
    np.multiply(dy, dy, out=dy)
    np.sqrt(np.add(cost, dy, out=cost), out=cost)
    out[1, :n] = cost.transpose(2, 1, 0)
    out[:, n:] = out[:, :n]
    return out


def greedy_cloud_match(a: np.ndarray, b: np.ndarray, epsilon: float = EPSILON) -> np.ndarray:
    """$P's GREEDY-CLOUD-MATCH of paired clouds, (P, n, 2) × (P, n, 2) → (P,) distances.

    Every start and both directions run together, one step per matched point k:
    the starts being 0, step, 2·step, …, their points k + start are the rows
    k, k + step, … of the doubled cost matrix (a strided view, no copy). Matched
    points are set to infinity in `taken`; ties go to the lowest index, as in $P.
    """
    num, n, _ = a.shape
    starts = starts_of(n, epsilon)
    step = int(starts[1]) if len(starts) > 1 else n
    costs = _doubled_costs(a, b)
    candidates = np.empty((2, len(starts), num, n))
    runs = candidates.size // n
    flat = candidates.reshape(runs, n)
    taken = np.zeros(candidates.shape)
    total = np.zeros(runs)
    first = np.arange(runs) * n
    for k in range(n):
        np.add(costs[:, k:k + n:step], taken, out=candidates)
        nearest = first + flat.argmin(axis=1)
        total += (1.0 - k / n) * candidates.ravel()[nearest]
        taken.ravel()[nearest] = np.inf
    return total.reshape(runs // num, num).min(axis=0)


class DollarP(NearestNeighbour):
    """$P (Vatavu, Anthony & Wobbrock, ICMI 2012): 1-NN by greedy point-cloud matching, for multistroke gestures.

    Invariant to translation, uniform scale, and the order and direction of the
    strokes; not to rotation (as $P).
    """

    def __init__(self, n: int = 32, epsilon: float = EPSILON) -> None:
        super().__init__()
        if n < 2:
            raise ValueError(f"$P needs n >= 2, got {n}")
        self.n = n
        self.epsilon = epsilon

    def features(self, samples: Sequence[np.ndarray]) -> np.ndarray:
        """Each sample as its normalised cloud of n points, (S, n, 2)."""
        return normalize(samples, self.n)

    def distances(self, queries: np.ndarray, templates: np.ndarray) -> np.ndarray:
        """(Q, M) greedy cloud-match distances, computed over blocks of (query, template) pairs."""
        num_q, num_t = len(queries), len(templates)
        pair_q, pair_t = np.divmod(np.arange(num_q * num_t), num_t)
        block = max(1, PAIR_CHUNK // (16 * self.n * self.n))  # 256 pairs at n = 32: an 8 MB cost block
        out = np.empty(num_q * num_t)
        for start in range(0, len(out), block):
            q, t = pair_q[start:start + block], pair_t[start:start + block]
            out[start:start + block] = greedy_cloud_match(queries[q], templates[t], self.epsilon)
        return out.reshape(num_q, num_t)


__all__ = ["DollarP", "EPSILON", "greedy_cloud_match", "normalize", "resample_strokes", "starts_of"]
