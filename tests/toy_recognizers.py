"""Toy recognisers for the tests of `--recognizer=module:Class` and `deepnag.study` (importable as tests.toy_recognizers)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from deepnag.data.preprocessing import resample


class NearestCentroid(ClassifierMixin, BaseEstimator):
    """Each sample resampled to `points` points and flattened; the class whose mean is nearest."""

    def __init__(self, points: int = 16) -> None:
        self.points = points

    def _flat(self, X):  # noqa: N803
        return resample([np.asarray(x, dtype=np.float64) for x in X], self.points).reshape(len(X), -1)

    def fit(self, X, y):  # noqa: N803
        flat, y = self._flat(X), np.asarray(y)
        self.classes_ = np.unique(y)
        self.centroids_ = np.stack([flat[y == c].mean(axis=0) for c in self.classes_])
        return self

    def predict(self, X):  # noqa: N803
        distances = ((self._flat(X)[:, None] - self.centroids_[None]) ** 2).sum(axis=2)
        return self.classes_[distances.argmin(axis=1)]


class Raising(NearestCentroid):
    """Fits, then fails to predict."""

    def predict(self, X):  # noqa: N803
        raise ArithmeticError("the toy recogniser cannot predict")


class WrongCount(NearestCentroid):
    """Returns one label too few."""

    def predict(self, X):  # noqa: N803
        return super().predict(X)[:-1]


class NoFit:
    """Has predict, no fit."""

    def predict(self, X):  # noqa: N803
        return np.zeros(len(X))
