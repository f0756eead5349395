"""MiniRocket from aeon, as a recogniser of gestures of any length: the time-series world's usual strong baseline.

MiniRocket (Dempster, Schmidt and Webb, "MINIROCKET: A Very Fast (Almost) Deterministic Transform for Time Series
Classification", KDD 2021) convolves each series with ~10,000 fixed kernels and fits a ridge classifier on the
proportions of positive values. aeon's `MiniRocketClassifier` (multivariate) needs series of one length, so each
sample is first resampled to `points` points along its path and centred and scaled as the GRU recogniser's samples
are (`gru_recognizer.standardise`): writers differ in where and how large they draw.

aeon is an optional extra (`pip install "deepnag[aeon]"`); without it, `fit` raises `MissingExtra` with that line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from deepnag.errors import UserError
from deepnag.recognition.gru_recognizer import standardise

INSTALL = 'pip install "deepnag[aeon]"'
"""How to install the extra MiniRocket needs."""
POINTS = 32
"""Points each sample is resampled to (MiniRocket's kernels span 9 points at dilation 1)."""


class MissingExtra(UserError):
    """An optional dependency is not installed: one line saying which and how to install it."""


def available() -> bool:
    """Whether aeon is installed."""
    try:
        import aeon  # noqa: F401
    except ImportError:
        return False
    return True


def _classifier(**options: Any) -> Any:
    try:
        from aeon.classification.convolution_based import MiniRocketClassifier
    except ImportError:
        raise MissingExtra(f"MiniRocket needs aeon, which is not installed: {INSTALL}") from None
    return MiniRocketClassifier(**options)


class MiniRocket(ClassifierMixin, BaseEstimator):
    """aeon's MiniRocketClassifier on samples resampled to `points` along their path, centred, unit RMS radius."""

    def __init__(self, points: int = POINTS, n_kernels: int = 10_000, random_state: int = 0) -> None:
        self.points = points
        self.n_kernels = n_kernels
        self.random_state = random_state

    def _series(self, samples: Sequence[np.ndarray]) -> np.ndarray:
        """(S, D, points) float64: aeon's layout, channels before time."""
        return standardise(samples, self.points).transpose(0, 2, 1).astype(np.float64)

    def fit(self, X: Sequence[np.ndarray], y: np.ndarray) -> MiniRocket:  # noqa: N803 (scikit-learn's names)
        """Transform the samples with MiniRocket's kernels and fit its ridge classifier."""
        if len(X) != len(y):
            raise ValueError(f"{len(X)} samples but {len(y)} labels")
        classifier = _classifier(n_kernels=self.n_kernels, random_state=self.random_state, n_jobs=1)
        self.classifier_ = classifier.fit(self._series(X), np.asarray(y))
        self.classes_ = np.asarray(self.classifier_.classes_)
        return self

    def predict(self, X: Sequence[np.ndarray]) -> np.ndarray:  # noqa: N803
        """The class of each sample."""
        check_is_fitted(self, "classifier_", msg="call fit before predict")
        return np.asarray(self.classifier_.predict(self._series(X)))

    def predict_proba(self, X: Sequence[np.ndarray]) -> np.ndarray:  # noqa: N803
        """(S, classes) probabilities in the order of `classes_` (aeon's: one-hot for the ridge classifier)."""
        check_is_fitted(self, "classifier_", msg="call fit before predict")
        return np.asarray(self.classifier_.predict_proba(self._series(X)))


__all__ = ["INSTALL", "POINTS", "MiniRocket", "MissingExtra", "available"]
