"""Standard gesture recognisers, to measure how useful synthetic gestures are.

Two 1-nearest-neighbour recognisers, both vectorised over sample pairs:

- `Protractor` (2D pen gestures): Yang Li, "Protractor: a fast and accurate
  gesture recognizer", CHI 2010. Resample to 16 points, translate the centroid
  to the origin, rotate by the indicative angle, flatten to a unit vector; the
  distance is the angle between two such vectors after the best rotation, found
  in closed form. Li gives an orientation-invariant and an orientation-sensitive
  variant; the default here is the invariant one, as in $1 (Wobbrock, Wilson and
  Li, UIST 2007) and as Protractor is usually run on the $1 data set.
- `JackknifeDTW` (any number of features, used for 3D skeletons): the inner-
  product measure of Jackknife (Taranta, Samiei, Maghoumi, Khaloo, Pittman and
  LaViola, "Jackknife: A Reliable Recognizer with Few Samples and Many
  Modalities", CHI 2017), following its reference implementation's
  `SetIPDefaults`: resample to 16 points along the path, unit direction vectors
  between consecutive points (for a skeleton, one 63-D vector per step: the
  direction of the whole-body trajectory), no z-normalisation (Jackknife
  z-normalises only for its Euclidean measure), local cost 1 − dot product,
  DTW inside a Sakoe–Chiba band of radius 2 (about 10% of n), and the two
  correction factors (per-component absolute distance travelled and bounding-box
  widths). Jackknife's lower bounds only prune the search and its rejection
  thresholds are for continuous data; neither changes a 1-NN decision here.

`recognizer_for(num_features, dataset=...)` picks $P (`deepnag.recognition.dollar_p`)
for MMG's multistroke pen gestures, else Protractor for 2D data and Jackknife-DTW
otherwise. Samples are (T_i, D) arrays of any lengths, in the data's units.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from deepnag.config import MULTISTROKE_DATASETS
from deepnag.data.preprocessing import is_pen_data, resample

log = logging.getLogger(__name__)

PAIR_CHUNK = 1 << 22
"""Bound on the float64 elements of one distance block (queries × templates × cells): 32 MB."""


def _as_list(samples: Sequence[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    """Variable-length samples (a sequence, or one (S, T, D) array) as a list of float64 arrays."""
    return [np.asarray(s, dtype=np.float64) for s in samples]


class NearestNeighbour(ClassifierMixin, BaseEstimator):
    """1-NN over a distance matrix, a scikit-learn classifier: `fit(X, y)` stores the templates' features, `predict(X)`
    gives each sample the label of its closest. X: a list of (T, D) arrays of any lengths."""

    def features(self, samples: Sequence[np.ndarray]) -> np.ndarray:
        """Per-sample feature arrays, stacked on axis 0."""
        raise NotImplementedError

    def distances(self, queries: np.ndarray, templates: np.ndarray) -> np.ndarray:
        """(Q, M) distances between query and template features."""
        raise NotImplementedError

    def bounded_distances(self, queries: np.ndarray, templates: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """`distances` where an entry at or above its query's bound (Q,) may be any value at or above it: all that
        1-NN needs when a template at that distance is already known. Exact here; a slow measure cuts those short."""
        return self.distances(queries, templates)

    def nearest(self, queries: np.ndarray, templates: np.ndarray) -> np.ndarray:
        """Each query's nearest template's index, the first of equals."""
        return np.argmin(self.distances(queries, templates), axis=1)

    def fit(self, X: Sequence[np.ndarray], y: np.ndarray) -> NearestNeighbour:  # noqa: N803 (scikit-learn's names)
        """Keep the samples as templates (features computed once)."""
        labels = np.asarray(y)
        if len(X) != len(labels):
            raise ValueError(f"{len(X)} samples but {len(labels)} labels")
        if len(X) == 0:
            raise ValueError("a recogniser needs at least one template")
        self.templates_ = self.features(_as_list(X))
        self.labels_ = labels
        self.classes_ = np.unique(labels)
        return self

    def predict(self, X: Sequence[np.ndarray]) -> np.ndarray:  # noqa: N803
        """The label of each sample's nearest template."""
        check_is_fitted(self, "templates_", msg="call fit before predict")
        if len(X) == 0:
            return self.labels_[:0]
        queries = self.features(_as_list(X))
        rows = max(1, PAIR_CHUNK // len(self.templates_))  # bounds the (rows, M) distance block
        nearest = np.concatenate([self.nearest(queries[start:start + rows], self.templates_)
                                  for start in range(0, len(queries), rows)])
        return self.labels_[nearest]

    def distance_matrix(self, queries: Sequence[np.ndarray], templates: Sequence[np.ndarray],
                        bounds: np.ndarray | None = None) -> np.ndarray:
        """(Q, M) distances between samples, computed in blocks (what 1-NN over any subset of templates needs); with
        `bounds` (Q,), those at or above a query's bound only known to be so (`bounded_distances`)."""
        q, t = self.features(_as_list(queries)), self.features(_as_list(templates))
        rows = max(1, PAIR_CHUNK // max(1, len(t)))
        bounds = np.full(len(q), np.inf) if bounds is None else np.asarray(bounds, dtype=np.float64)
        return np.concatenate([self.bounded_distances(q[start:start + rows], t, bounds[start:start + rows])
                               for start in range(0, len(q), rows)])


# ----------------------------------------------------------------------------------------------------------------------
# Protractor
# ----------------------------------------------------------------------------------------------------------------------
class Protractor(NearestNeighbour):
    """Li's Protractor (CHI 2010) for 2D gestures: 16 points, closed-form optimal rotation, 1-NN.

    Translation and scale invariant. With `orientation_sensitive=False` (default)
    the indicative angle (centroid → first point) is rotated to 0, so a rotated
    gesture matches its original; with True it is rotated only to the nearest of
    eight base orientations (multiples of 45°). Either way, the optimal rotation
    of Li's closed form, θ = atan(b/a) within ±90°, is applied on top; when a < 0
    (the two vectors more than 90° apart) that θ gives the worst alignment, as in
    Li's formula, so such pairs stay far apart. Hence the sensitive variant tells
    a gesture from itself turned by more than 90° (135°, 180°), while a turn of
    up to 90° is still absorbed (exactly 90° sits on the edge, a = 0).
    """

    def __init__(self, n: int = 16, orientation_sensitive: bool = False) -> None:
        self.n = n
        self.orientation_sensitive = orientation_sensitive

    def features(self, samples: Sequence[np.ndarray]) -> np.ndarray:
        """Each sample as a unit complex vector of n points, (S, n) complex128 (Li's `Vectorize`)."""
        points = resample(samples, self.n)  # (S, n, 2)
        if points.shape[2] != 2:
            raise ValueError(f"Protractor needs 2 features, got {points.shape[2]}")
        z = points[..., 0] + 1j * points[..., 1]
        z = z - z.mean(axis=1, keepdims=True)
        indicative = np.angle(z[:, 0])
        if self.orientation_sensitive:
            base = (math.pi / 4) * np.floor((indicative + math.pi / 8) / (math.pi / 4))
            delta = base - indicative
        else:
            delta = -indicative
        z = z * np.exp(1j * delta)[:, None]
        norm = np.linalg.norm(z, axis=1, keepdims=True)
        return np.divide(z, norm, out=np.zeros_like(z), where=norm > 0)

    def distances(self, queries: np.ndarray, templates: np.ndarray) -> np.ndarray:
        """Li's `OptimalCosineDistance` for all pairs: acos(a cos θ + b sin θ), θ = atan(b/a).

        With a + ib = Σ conj(t) q over the points (one complex matrix product),
        a cos θ + b sin θ = sign(a)·|a + ib| (|b| when a = 0).
        """
        ab = queries @ templates.conj().T  # (Q, M): a + ib
        similarity = np.where(ab.real >= 0, 1.0, -1.0) * np.abs(ab)
        return np.arccos(np.clip(similarity, -1.0, 1.0))


# ----------------------------------------------------------------------------------------------------------------------
# Jackknife-style DTW
# ----------------------------------------------------------------------------------------------------------------------
def direction_vectors(points: np.ndarray) -> np.ndarray:
    """Unit vectors between consecutive points, (S, n, D) → (S, n-1, D); a zero step stays 0."""
    steps = np.diff(points, axis=1)
    norm = np.linalg.norm(steps, axis=2, keepdims=True)
    return np.divide(steps, norm, out=np.zeros_like(steps), where=norm > 0)


def dtw_distances(queries: np.ndarray, templates: np.ndarray, radius: int) -> np.ndarray:
    """DTW of every query with every template, (Q, N, D) × (M, N, D) → (Q, M).

    Local cost 1 − q_i·t_j, inside a Sakoe–Chiba band |i − j| ≤ radius.

    The dynamic programme loops over the band's cells; every cell is one NumPy
    operation over all (query, template) pairs of a chunk. R[0,0] = 0, other
    borders are infinite; steps (i-1, j-1), (i-1, j) and (i, j-1), as Jackknife.
    """
    if queries.shape[1:] != templates.shape[1:]:
        raise ValueError(f"queries {queries.shape} and templates {templates.shape} differ in length or features")
    num_q, n, _ = queries.shape
    num_t = templates.shape[0]
    out = np.empty((num_q, num_t))
    chunk = max(1, PAIR_CHUNK // max(1, num_t * n * n))
    for start in range(0, num_q, chunk):
        q = queries[start:start + chunk]
        # Pair axes last, so every cell of the programme is one contiguous (c, M) slab.
        cost = 1.0 - np.einsum("qid,mjd->ijqm", q, templates, optimize=True)  # (n, n, c, M)
        acc = np.full((n + 1, n + 1, len(q), num_t), np.inf)
        acc[0, 0] = 0.0
        for i in range(1, n + 1):
            for j in range(max(1, i - radius), min(n, i + radius) + 1):
                best = np.minimum(np.minimum(acc[i - 1, j - 1], acc[i - 1, j]), acc[i, j - 1])
                np.add(best, cost[i - 1, j - 1], out=acc[i, j])
        out[start:start + chunk] = acc[n, n]
    return out


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


class JackknifeDTW(NearestNeighbour):
    """Jackknife's inner-product measure (Taranta et al., CHI 2017): 1-NN DTW over unit direction vectors.

    Features per sample: the n − 1 unit direction vectors of its path resampled
    to n points, and (for the correction factors) the unit vectors of absolute
    distance travelled per component and of bounding-box widths per component.
    Score = DTW · 1/max(0.01, abs·abs') · 1/max(0.01, bb·bb') when
    `correction_factors` is on (Jackknife's default).
    """

    def __init__(self, n: int = 16, radius: int | None = None, correction_factors: bool = True) -> None:
        self.n = n
        self.radius = radius  # None: Jackknife's, about 10% of n (`band`)
        self.correction_factors = correction_factors

    @property
    def band(self) -> int:
        """The Sakoe–Chiba band's radius: `radius`, or Jackknife's default ceil(n / 10), at least 1."""
        return max(1, math.ceil(0.1 * self.n)) if self.radius is None else self.radius

    def features(self, samples: Sequence[np.ndarray]) -> np.ndarray:
        """(S, n + 1, D): rows 0..n-2 the direction vectors, row n-1 the abs-distance vector, row n the bb vector."""
        if self.n < 2:
            raise ValueError(f"JackknifeDTW needs n >= 2, got {self.n}")
        points = resample(samples, self.n)
        steps = np.diff(points, axis=1)
        absolute = _unit_rows(np.abs(steps).sum(axis=1))
        widths = _unit_rows(points.max(axis=1) - points.min(axis=1))
        return np.concatenate([direction_vectors(points), absolute[:, None], widths[:, None]], axis=1)

    def distances(self, queries: np.ndarray, templates: np.ndarray) -> np.ndarray:
        """Jackknife's score for every pair: band-limited DTW, times the correction factors."""
        score = dtw_distances(queries[:, :-2], templates[:, :-2], self.band)
        if self.correction_factors:
            cf_abs = np.maximum(0.01, queries[:, -2] @ templates[:, -2].T)
            cf_bb = np.maximum(0.01, queries[:, -1] @ templates[:, -1].T)
            score = score / (cf_abs * cf_bb)
        return score


# ----------------------------------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------------------------------
def recognizer_for(num_features: int, *, dataset: str | None = None,
                   samples: Sequence[np.ndarray] | None = None) -> NearestNeighbour:
    """The 1-NN recogniser for data of `num_features` features from `dataset`: $P (Vatavu, Anthony & Wobbrock, ICMI
    2012) for multistroke pen gestures (MMG, or, with no data set named, real `samples` that are pen data: x, y and a
    pen state of only 0 and 1), else Protractor for 2D and Jackknife-DTW otherwise."""
    if num_features < 1:
        raise ValueError(f"num_features must be >= 1, got {num_features}")
    multistroke = dataset in MULTISTROKE_DATASETS if dataset is not None else (
        samples is not None and num_features == 3 and is_pen_data(samples))
    if multistroke:
        from deepnag.recognition.dollar_p import DollarP  # dollar_p builds on this module

        return DollarP()
    return Protractor() if num_features == 2 else JackknifeDTW()


class Recognizer(Protocol):
    """What the study, --metrics and vetting ask of a recogniser: scikit-learn's `fit(X, y)` and `predict(X)`, X a
    list of (T, D) arrays of any lengths (any scikit-learn-style classifier that takes such lists fits)."""

    def fit(self, X: Sequence[np.ndarray], y: np.ndarray) -> Recognizer: ...  # noqa: N803

    def predict(self, X: Sequence[np.ndarray]) -> np.ndarray: ...  # noqa: N803


def accuracy(
    train_samples: Sequence[np.ndarray],
    train_labels: np.ndarray,
    test_samples: Sequence[np.ndarray],
    test_labels: np.ndarray,
    num_features: int,
    recognizer: Recognizer | None = None,
    *,
    dataset: str | None = None,
) -> float:
    """Fraction of test samples that `recognizer` (default `recognizer_for(num_features, dataset=dataset)`), trained
    on the train samples, labels right."""
    test_labels = np.asarray(test_labels)
    if len(test_samples) == 0:
        raise ValueError("accuracy needs at least one test sample")
    recognizer = recognizer_for(num_features, dataset=dataset) if recognizer is None else recognizer
    predicted = recognizer.fit(train_samples, train_labels).predict(test_samples)
    return float(np.mean(predicted == test_labels))
