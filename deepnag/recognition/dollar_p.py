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

The greedy matching is a compiled Numba kernel, one (query, template) pair at a
time: the n × n point distances once, then every start in both directions. A
point's match is never nearer than its closest point of the other cloud, so a run
stops as soon as its sum so far plus those closest distances of the points still
to match reaches the least distance found so far for the pair (early abandoning
with a lower bound, as $Q does; Vatavu, Anthony & Wobbrock, MobileHCI 2018): the
result is the same. The full matrix comes about 5 times faster than from the
NumPy version it replaced, which ran all pairs of a block in lock step (57k
against 12k pairs a second on one core here). 1-NN needs less: `nearest` bounds
each query by its nearest template so far, and `bounded_distances` by a given
distance (the held-out study's nearest real sample), 2.5 and 2.9 times faster
again (`python -m benchmarks.bench_dollar_p`).

Samples are (T, 3) arrays of x, y and the pen state of `deepnag.data.mmg` (a
point whose pen state is below 0.5 starts a new stroke), or (T, 2) arrays,
one stroke each.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from deepnag.data.mmg import PEN_THRESHOLD
from deepnag.recognition.recognizers import NearestNeighbour

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


_TAKEN = 1e30
"""Added to a matched point's distances: finite, so that the kernel may assume no infinities (fastmath)."""

_SLACK = 1.0 - 1e-9
"""The lower bounds are trusted to this share: their sums' rounding (about 1e-14) cannot cut a run that is the least."""

# Every fastmath flag: the inputs are finite distances, `_TAKEN` stands in for infinity, and the sums run in order.
_FASTMATH = True


@njit(cache=True, nogil=True, boundscheck=False, fastmath=_FASTMATH)
def _greedy_run(cost: np.ndarray, closest: np.ndarray, start: int, bound: float, taken: np.ndarray) -> float:
    """One GREEDY-CLOUD-MATCH run: row points from `start` on, cyclically, each to its closest free column point.

    `taken[j]` is 0 for a free column and `_TAKEN` for a matched one, so that the
    least distance is a plain (vectorised) minimum; the point is then the first
    column that has it (ties go to the lowest index, as in $P). `closest[i]`, row
    i's least distance to any column, bounds what its match adds from below: the
    run returns as soon as its sum so far plus those of the rows still to match
    reaches `bound` (a value ≥ bound then, which cannot be the pair's least).
    """
    n = cost.shape[0]
    ahead = 0.0
    for k in range(n):
        i = start + k
        if i >= n:
            i -= n
        ahead += (1.0 - k / n) * closest[i]
    if ahead * _SLACK >= bound:
        return ahead
    taken[:] = 0.0
    total = 0.0
    for k in range(n):
        i = start + k
        if i >= n:
            i -= n
        nearest = _TAKEN
        for j in range(n):
            nearest = min(nearest, cost[i, j] + taken[j])
        for j in range(n):
            if cost[i, j] + taken[j] == nearest:
                taken[j] = _TAKEN
                break
        weight = 1.0 - k / n
        total += weight * nearest
        ahead -= weight * closest[i]
        if total + ahead * _SLACK >= bound:
            return total + max(ahead, 0.0)
    return total


@njit(cache=True, nogil=True, boundscheck=False)
def _cloud_distances(queries: np.ndarray, templates: np.ndarray, starts: np.ndarray, paired: bool,
                     bounds: np.ndarray, running: bool) -> np.ndarray:
    """(Q·M,) GREEDY-CLOUD-MATCH distances of every query against every template, or (P,) of paired clouds.

    A pair whose distance is at or above its query's `bounds[q]` comes back as some
    value at or above it (its runs abandoned). `running`: each query's bound
    falls to the least distance found so far, which keeps its nearest template
    exact and cuts the others short (1-NN).
    """
    num_q, n, _ = queries.shape
    num_t = templates.shape[0]
    out = np.empty(num_q if paired else num_q * num_t, dtype=queries.dtype)
    forward = np.empty((n, n), dtype=queries.dtype)
    backward = np.empty((n, n), dtype=queries.dtype)
    taken = np.empty(n, dtype=queries.dtype)
    row_closest = np.empty(n, dtype=queries.dtype)
    column_closest = np.empty(n, dtype=queries.dtype)
    for pair in range(len(out)):
        q = pair if paired else pair // num_t
        a, b = queries[q], templates[pair if paired else pair % num_t]
        row_closest[:] = _TAKEN
        column_closest[:] = _TAKEN
        for i in range(n):
            for j in range(n):
                dx = a[i, 0] - b[j, 0]
                dy = a[i, 1] - b[j, 1]
                forward[i, j] = math.sqrt(dx * dx + dy * dy)
                backward[j, i] = forward[i, j]
                row_closest[i] = min(row_closest[i], forward[i, j])
                column_closest[j] = min(column_closest[j], forward[i, j])
        best = min(bounds[q], _TAKEN)
        for start in starts:
            best = min(best, _greedy_run(forward, row_closest, start, best, taken))
            best = min(best, _greedy_run(backward, column_closest, start, best, taken))
        out[pair] = best
        if running:
            bounds[q] = best
    return out


def _as_clouds(*clouds: np.ndarray) -> list[np.ndarray]:
    """Clouds as C-contiguous arrays of one float dtype (float32 stays float32, anything else becomes float64)."""
    dtype = np.float32 if all(np.asarray(c).dtype == np.float32 for c in clouds) else np.float64
    out = [np.ascontiguousarray(c, dtype=dtype) for c in clouds]
    for c in out:
        if c.ndim != 3 or c.shape[2] != 2:
            raise ValueError(f"$P matches (S, n, 2) clouds, got {c.shape}")
    if out[0].shape[1] != out[1].shape[1]:
        raise ValueError(f"$P matches clouds of one size n, got {out[0].shape[1]} and {out[1].shape[1]} points")
    return out


def greedy_cloud_match(a: np.ndarray, b: np.ndarray, epsilon: float = EPSILON) -> np.ndarray:
    """$P's GREEDY-CLOUD-MATCH of paired clouds, (P, n, 2) × (P, n, 2) → (P,) distances: the least weighted
    greedy matching over the starts and both directions."""
    a, b = _as_clouds(a, b)
    if len(a) != len(b):
        raise ValueError(f"paired clouds: {len(a)} against {len(b)}")
    return _cloud_distances(a, b, starts_of(a.shape[1], epsilon), True, np.full(len(a), _TAKEN), False)


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
        """(Q, M) greedy cloud-match distances between every query and every template."""
        return self._matched(queries, templates, np.full(len(queries), np.inf), running=False)

    def bounded_distances(self, queries: np.ndarray, templates: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """`distances`, exact below each query's bound, some value at or above it elsewhere (runs abandoned there)."""
        return self._matched(queries, templates, bounds, running=False)

    def nearest(self, queries: np.ndarray, templates: np.ndarray) -> np.ndarray:
        """Each query's nearest template, its bound the least distance so far (the others' runs cut short)."""
        return np.argmin(self._matched(queries, templates, np.full(len(queries), np.inf), running=True), axis=1)

    def _matched(self, queries: np.ndarray, templates: np.ndarray, bounds: np.ndarray, running: bool) -> np.ndarray:
        queries, templates = _as_clouds(queries, templates)
        asked = np.asarray(bounds, dtype=np.float64)
        if asked.shape != (len(queries),):
            raise ValueError(f"one bound per query: {asked.shape} for {len(queries)} queries")
        bounds = asked.astype(queries.dtype)  # a copy (the running kernel lowers it), never below the bound asked for:
        bounds = np.where(bounds < asked, np.nextafter(bounds, np.inf), bounds)  # float32 may round down
        flat = _cloud_distances(queries, templates, starts_of(self.n, self.epsilon), False, bounds, running)
        return flat.reshape(len(queries), len(templates))


__all__ = ["DollarP", "EPSILON", "greedy_cloud_match", "normalize", "resample_strokes", "starts_of"]
