"""Gesture path stochastic resampling (GPSR): the simple synthesizer every generator should be compared with.

Taranta, Maghoumi, Pittman and LaViola, "A Rapid Prototyping Approach to
Synthetic Data Generation for Improved 2D Gesture Recognition", UIST 2016. One
synthetic variant of a real sample:

1. n + x points along its path at random arc-length intervals
   η_i = 1 + U_i·√(12σ²), U_i ~ U(0, 1), i = 1 … n + x − 1 (intervals of variance
   σ²), scaled to sum to the path length; the first and last points stay;
2. x of those points removed at random;
3. the unit direction vectors between consecutive remaining points laid end to
   end from the origin: q_0 = 0, q_i = q_{i−1} + (p_i − p_{i−1}) / ‖p_i − p_{i−1}‖.
   Step 3 lengthens short subpaths and shortens long ones: that is the variation.

The paper's shape lives in "unit steps"; here it is scaled to the source's path
length and placed at the source's first point, so variants are in the data's
units like every other synthetic set (Protractor and Jackknife ignore position
and scale; figures and exported files do not). Any number of features: a
63-feature skeleton frame is one point of a 63-D path. σ² = 0.25 and x = 2 are
the paper's values; n = 32 here (the paper tunes n per data set).

Multistroke pen data (x, y and a pen state, `deepnag.data.preprocessing.is_pen_data`: MMG) is varied stroke by
stroke: each stroke gets its share of the n points as resampling gives it (`allocate_points`: its two ends, the
rest by length), is a GPSR variant of its own (placed at its first point, scaled to its length), and the strokes
are joined in drawing order with an exact pen state (0 at the first point of every stroke after the first), so the
pen-up jumps are never unit steps and the pen state is never interpolated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepnag.data.preprocessing import allocate_points, is_pen_data, join_strokes, resample_at, split_strokes, stroke_lengths

POINTS = 32
VARIANCE = 0.25
REMOVED = 2


def intervals(rng: np.random.Generator, count: int, n: int = POINTS, variance: float = VARIANCE,
              removed: int = REMOVED) -> np.ndarray:
    """Step 1's raw intervals η for `count` variants: (count, n + removed − 1), uniform on [1, 1 + √(12σ²)]."""
    return 1.0 + rng.random((count, n + removed - 1)) * np.sqrt(12.0 * variance)


def stochastic_points(sources: Sequence[np.ndarray], eta: np.ndarray) -> np.ndarray:
    """Step 1: the points of each source at the cumulative intervals `eta` (one row per source), (S, m, D)."""
    cumulative = np.concatenate([np.zeros((len(eta), 1)), np.cumsum(eta, axis=1)], axis=1)
    return resample_at(sources, cumulative / cumulative[:, -1:])


def remove_points(points: np.ndarray, drop_keys: np.ndarray, removed: int) -> np.ndarray:
    """Step 2: drop, from each row, the `removed` points with the smallest keys (random keys: random points)."""
    s, m, d = points.shape
    keep = np.ones((s, m), dtype=bool)
    keep[np.arange(s)[:, None], np.argsort(drop_keys, axis=1)[:, :removed]] = False
    return points[keep].reshape(s, m - removed, d)


def unit_path(points: np.ndarray) -> np.ndarray:
    """Step 3: unit direction vectors laid end to end from the origin, (S, n, D); a zero step stays zero."""
    steps = np.diff(points, axis=1)
    norm = np.linalg.norm(steps, axis=2, keepdims=True)
    unit = np.divide(steps, norm, out=np.zeros_like(steps), where=norm > 0)
    return np.concatenate([np.zeros_like(points[:, :1]), np.cumsum(unit, axis=1)], axis=1)


def path_lengths(sources: Sequence[np.ndarray]) -> np.ndarray:
    """Each polyline's arc length, (S,)."""
    points = np.concatenate([np.asarray(s, dtype=np.float64) for s in sources], axis=0)
    lengths = np.array([len(s) for s in sources])
    step = np.zeros(len(points))
    step[1:] = np.linalg.norm(np.diff(points, axis=0), axis=1)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    step[starts] = 0.0
    return np.add.reduceat(step, starts)


def variants(sources: Sequence[np.ndarray], rng: np.random.Generator, n: int = POINTS, variance: float = VARIANCE,
             removed: int = REMOVED, pen: bool | None = None) -> np.ndarray:
    """One GPSR variant of each source, in the source's units: (len(sources), n, D) float64; pen data (`pen`, by
    default `is_pen_data`) stroke by stroke (`stroke_variants`)."""
    if n < 2 or removed < 0 or not variance >= 0:
        raise ValueError(f"GPSR needs n >= 2, removed >= 0 and variance >= 0; got {n}, {removed}, {variance}")
    if len(sources) == 0:
        raise ValueError("GPSR needs at least one source sample")
    if is_pen_data(sources) if pen is None else pen:
        return stroke_variants(sources, rng, n, variance, removed)
    eta = intervals(rng, len(sources), n, variance, removed)
    drop_keys = rng.random((len(sources), n + removed))
    shape = unit_path(remove_points(stochastic_points(sources, eta), drop_keys, removed))
    steps = np.linalg.norm(np.diff(shape, axis=1), axis=2).sum(axis=1)  # the number of non-zero steps
    scale = np.divide(path_lengths(sources), steps, out=np.zeros_like(steps), where=steps > 0)
    first = np.stack([np.asarray(s[0], dtype=np.float64) for s in sources])
    return first[:, None] + shape * scale[:, None, None]


def stroke_variants(sources: Sequence[np.ndarray], rng: np.random.Generator, n: int = POINTS,
                    variance: float = VARIANCE, removed: int = REMOVED) -> np.ndarray:
    """One GPSR variant of each multistroke source (T, 3), stroke by stroke: (len(sources), n, 3) float64, the pen
    state 0 at the first point of every stroke after the first and 1 elsewhere. Strokes with the same share of points
    are varied together (one draw for all of them); a stroke with one point keeps its first point."""
    strokes, counts = split_strokes(sources)
    allocated = allocate_points(stroke_lengths(strokes), counts, n)
    out = np.zeros((len(strokes), int(allocated.max()), 2))
    for m in np.unique(allocated):
        which = np.flatnonzero(allocated == m)
        if m == 1:
            out[which, 0] = [strokes[i][0] for i in which]
        elif m >= 2:
            out[which, :m] = variants([strokes[i] for i in which], rng, int(m), variance, removed, pen=False)
    return join_strokes(out, allocated, counts, n)


def per_sample(sequences: Sequence[np.ndarray], labels: np.ndarray, k: int, rng: np.random.Generator,
               **options) -> tuple[np.ndarray, np.ndarray]:
    """`k` variants of every real sample (variants of sample i are rows i·k … i·k + k − 1), and their labels."""
    index = np.repeat(np.arange(len(sequences)), k)
    return variants([sequences[i] for i in index], rng, **options), np.asarray(labels)[index]


def per_class(sequences: Sequence[np.ndarray], labels: np.ndarray, k: int, rng: np.random.Generator,
              num_classes: int | None = None, **options) -> tuple[np.ndarray, np.ndarray]:
    """`k` variants of every class, (C·k, n, D), class-major; variant j of a class comes from its sample j mod r.

    So the first k' < k variants of a class spread over its real samples as evenly as k' allows.
    """
    labels = np.asarray(labels, dtype=np.int64)
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    source, cls = class_major_sources(labels, k, num_classes, "GPSR per class")
    return variants([sequences[i] for i in source], rng, **options), cls


def class_major_sources(labels: np.ndarray, k: int, num_classes: int, who: str,
                        noun: str = "real sample") -> tuple[np.ndarray, np.ndarray]:
    """For k outputs of every class, class-major: the index of each one's source sample (output j of a class comes
    from its sample j mod r) and its class; `who` and `noun` word the error for a class without samples."""
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(labels, minlength=num_classes)
    if (counts == 0).any():
        raise ValueError(f"{who}: class(es) {np.flatnonzero(counts == 0).tolist()} have no {noun}")
    order = np.argsort(labels, kind="stable")
    starts = np.cumsum(counts) - counts
    cls = np.repeat(np.arange(num_classes), k)
    j = np.tile(np.arange(k), num_classes)
    return order[starts[cls] + j % counts[cls]], cls


__all__ = ["POINTS", "VARIANCE", "REMOVED", "variants", "stroke_variants", "per_sample", "per_class", "intervals", "stochastic_points",
           "remove_points", "unit_path", "path_lengths"]
