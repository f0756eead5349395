"""Chained augmentation: simple transformations one after another, each a new random draw per sample.

Maslych, Aldilati, Taranta and LaViola ("Effective 2D Stroke-based Gesture
Augmentation for RNNs", CHI 2023) found that chaining simple transformations
beats any one of them. The default chain here is GPSR (`deepnag.data.gpsr`), then
a rotation (±30°), then a stretch (±20% along each axis), chosen by measurement
(`benchmarks/chain_choice.py`; docs/findings/chained-training.md gives the chains
tried):

- 2D strokes turn in their plane about the sample's centroid;
- skeletons (frames of joints × xyz, 63 features for JK2017) turn about the
  vertical axis (y for both JK2017 sensors) through the sample's centroid, every
  joint of every frame by the same rotation, so the skeleton stays rigid;
- a stretch multiplies each axis's distance from the centroid by its own factor
  (x, y for strokes; x, y, z, the same for every joint, for skeletons);
- the optional isotropic scale multiplies every distance from the centroid by one
  factor (the recognisers here normalise size, so it changes nothing for them).

- multistroke pen data (x, y and a pen state: MMG, `preprocessing.is_pen_data`)
  is varied like strokes, on x and y only: GPSR stroke by stroke
  (`gpsr.stroke_variants`), then the rotation, stretch and scale of x, y; the
  pen state is carried through unchanged (0 or 1, never rotated or interpolated).

A rotation keeps lengths and angles; an isotropic scale keeps angles. Any other
feature count (your own data) gets GPSR and the scale only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepnag.data import gpsr
from deepnag.data.preprocessing import PEN_FEATURE, is_pen_data

ROTATE_DEGREES = 30.0
"""A rotation's angle is drawn uniformly from ±this many degrees."""
SCALE_SPREAD = 0.1
"""A scale's factor is drawn uniformly from [1 − spread, 1 + spread]."""
STRETCH_SPREAD = 0.2
"""A stretch's factor along each axis is drawn uniformly from [1 − spread, 1 + spread], one per axis."""
STEPS = ("gpsr", "rotate", "stretch")
"""The default chain, in the order its steps act."""
VERTICAL = 1
"""The coordinate that points up in a skeleton's (x, y, z) joints: y, for the Kinect and the Leap Motion alike."""


def rotate(samples: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """Each sample (S, n, D) turned by its angle about its centroid: in the plane for D = 2, about the vertical axis
    for skeletons (D a multiple of 3, joints × xyz); other D are returned unchanged."""
    samples = np.asarray(samples, dtype=np.float64)
    s, n, d = samples.shape
    if d != 2 and d % 3:
        return samples.copy()
    theta = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    points = samples.reshape(s, -1, 2 if d == 2 else 3)  # 2-D points, or every joint of every frame
    centre = points.mean(axis=1, keepdims=True)
    x = points - centre
    turned = x.copy()
    a, b = (0, 1) if d == 2 else (0, 2)  # the plane the rotation acts in: x-y for strokes, x-z (about y) for skeletons
    turned[..., a] = cos[..., 0] * x[..., a] - sin[..., 0] * x[..., b]
    turned[..., b] = sin[..., 0] * x[..., a] + cos[..., 0] * x[..., b]
    return (turned + centre).reshape(s, n, d)


def scale(samples: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Each sample (S, n, D) scaled by its factor about its centroid (per coordinate of a point or joint)."""
    samples = np.asarray(samples, dtype=np.float64)
    s, n, d = samples.shape
    width = 2 if d == 2 else 3 if d % 3 == 0 else d
    points = samples.reshape(s, -1, width)
    centre = points.mean(axis=1, keepdims=True)
    return (centre + (points - centre) * np.asarray(factors, dtype=np.float64)[:, None, None]).reshape(s, n, d)


def stretch(samples: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Each sample (S, n, D) stretched about its centroid by its own factor along each axis: factors (S, axes), axes
    2 for strokes and 3 (x, y, z, the same for every joint) for skeletons; other D are returned unchanged."""
    samples = np.asarray(samples, dtype=np.float64)
    s, n, d = samples.shape
    if d != 2 and d % 3:
        return samples.copy()
    points = samples.reshape(s, -1, 2 if d == 2 else 3)
    centre = points.mean(axis=1, keepdims=True)
    return (centre + (points - centre) * np.asarray(factors, dtype=np.float64)[:, None, :]).reshape(s, n, d)


STEP_NAMES = ("rotate", "scale", "stretch")
"""The steps that may follow GPSR in a chain."""


def variants(sources: Sequence[np.ndarray], rng: np.random.Generator, steps: Sequence[str] = STEPS,
             degrees: float = ROTATE_DEGREES, spread: float = SCALE_SPREAD, stretch_spread: float = STRETCH_SPREAD,
             points: int = gpsr.POINTS, pen: bool | None = None) -> np.ndarray:
    """One chained variant of each source, in the source's units: (len(sources), points, D) float64.

    The first step must be "gpsr" (it also brings every source to `points` steps); the others act in order. Pen
    data (`pen`, by default `is_pen_data`) is varied on x, y only, its pen state carried.
    """
    steps = tuple(steps)
    if not steps or steps[0] != "gpsr" or set(steps[1:]) - set(STEP_NAMES):
        raise ValueError(f"a chain is 'gpsr' followed by any of {', '.join(map(repr, STEP_NAMES))}; got {list(steps)}")
    if not degrees >= 0 or not 0 <= spread < 1 or not 0 <= stretch_spread < 1:
        raise ValueError("a chain needs degrees >= 0, 0 <= spread < 1 and 0 <= stretch_spread < 1; got "
                         f"{degrees}, {spread}, {stretch_spread}")
    pen = is_pen_data(sources) if pen is None else pen
    out = gpsr.variants(sources, rng, n=points, pen=pen)
    if pen:
        xy = _transformed(out[..., :PEN_FEATURE], rng, steps, degrees, spread, stretch_spread)
        return np.concatenate([xy, out[..., PEN_FEATURE:]], axis=2)
    return _transformed(out, rng, steps, degrees, spread, stretch_spread)


def _transformed(out: np.ndarray, rng: np.random.Generator, steps: Sequence[str], degrees: float, spread: float,
                 stretch_spread: float) -> np.ndarray:
    """The steps after GPSR, in order, each a new draw per sample."""
    axes = 2 if out.shape[2] == 2 else 3
    for step in steps[1:]:
        if step == "rotate":
            out = rotate(out, rng.uniform(-degrees, degrees, len(out)))
        elif step == "scale":
            out = scale(out, rng.uniform(1 - spread, 1 + spread, len(out)))
        else:
            out = stretch(out, rng.uniform(1 - stretch_spread, 1 + stretch_spread, (len(out), axes)))
    return out


def per_sample(sequences: Sequence[np.ndarray], labels: np.ndarray, k: int, rng: np.random.Generator,
               **options) -> tuple[np.ndarray, np.ndarray]:
    """`k` chained variants of every real sample (those of sample i are rows i·k … i·k + k − 1), and their labels."""
    index = np.repeat(np.arange(len(sequences)), k)
    return variants([sequences[i] for i in index], rng, **options), np.asarray(labels)[index]


def per_class(sequences: Sequence[np.ndarray], labels: np.ndarray, k: int, rng: np.random.Generator,
              num_classes: int | None = None, **options) -> tuple[np.ndarray, np.ndarray]:
    """`k` chained variants of every class, (C·k, points, D), class-major, spread over its samples as GPSR's are."""
    labels = np.asarray(labels, dtype=np.int64)
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    source, cls = gpsr.class_major_sources(labels, k, num_classes, "chain per class")
    return variants([sequences[i] for i in source], rng, **options), cls


__all__ = ["ROTATE_DEGREES", "SCALE_SPREAD", "STRETCH_SPREAD", "STEPS", "STEP_NAMES", "rotate", "scale", "stretch",
           "variants", "per_sample", "per_class"]
