"""`--stroke-order=canonical`: multistroke samples in one stroke order and direction, however the writer drew them.

A class drawn in several orders is several shapes to a generator that learns a sample point by point, and it may
learn their blend (the six-point star's two triangles come up- or down-pointing first, clockwise or not, in about
equal shares; docs/method.md, drawing orders). Each stroke is turned to run from its upper-left end (a closed one
clockwise on screen, from its upper-left point) and the strokes are sorted by where they then start. Done once per
sample when the training set is loaded (about 0.2 s a thousand samples).
"""

from __future__ import annotations

import numpy as np

from deepnag.data import mmg

CLOSED = 0.2
"""A stroke is closed when its ends lie closer than this share of its bounding box's diagonal."""
LEFT_WEIGHT = 0.25
"""The rank of a point for "upper-left": y (down) plus this share of x, so height decides and x breaks near-ties."""


def _rank(points: np.ndarray) -> np.ndarray:
    """(T,) how far up and left each (T, 2) point lies: lower ranks first."""
    return points[:, 1] + LEFT_WEIGHT * points[:, 0]


def canonical_stroke(stroke: np.ndarray) -> np.ndarray:
    """One (T, 2) stroke from its upper-left end; a closed one clockwise on screen, from its upper-left point and
    back to it (a point more where the writer left a gap)."""
    if len(stroke) < 3:
        return stroke
    diagonal = np.linalg.norm(stroke.max(axis=0) - stroke.min(axis=0))
    if np.linalg.norm(stroke[0] - stroke[-1]) < CLOSED * max(diagonal, 1e-12):
        x, y = stroke[:, 0], stroke[:, 1]
        if np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) < 0:  # counter-clockwise on screen (y down)
            stroke = stroke[::-1]
        loop = stroke[:-1] if np.array_equal(stroke[0], stroke[-1]) else stroke  # each point of the loop once
        start = int(np.argmin(_rank(loop)))
        return np.concatenate([loop[start:], loop[:start + 1]])  # closed again at the new start
    return stroke[::-1] if _rank(stroke[[-1]])[0] < _rank(stroke[[0]])[0] else stroke


def canonical(sample: np.ndarray) -> np.ndarray:  # (a sample's few strokes: a loop over them, once per load)
    """A (T, 3) multistroke sample with its strokes turned (`canonical_stroke`) and sorted by their start."""
    strokes = [canonical_stroke(s) for s in mmg.strokes_of(sample)]
    order = np.argsort([_rank(s[[0]])[0] for s in strokes], kind="stable")
    return mmg.sample_of([strokes[i] for i in order]).astype(sample.dtype)
