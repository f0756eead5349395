"""A learned recogniser: a small recurrent classifier in the spirit of DeepGRU, trained deterministically on the CPU.

DeepGRU (Maghoumi and LaViola, "DeepGRU: Deep Gesture Recognition Utility",
ISVC 2019) reads a gesture with stacked GRUs, pools the hidden states with an
attention module led by the last state, and classifies with two fully connected
layers. This one keeps that shape at a size that fits in seconds on two cores,
since the held-out study fits it dozens of times:

- preprocessing: each sample resampled to `POINTS` points along its path
  (`deepnag.data.preprocessing.resample`), moved so that its centroid (over every
  point, or every joint of every frame) is at the origin and scaled so that the
  root-mean-square distance from it is 1 (writers differ in where and how large
  they draw; the class is in the shape);
- encoder: GRU(D → 32) → GRU(32 → 32), batch-first;
- attention (DeepGRU's): scores = H · W h_T over the hidden states H, context
  c = softmax(scores) · H, then a GRU cell reads c with h_T as its state; the
  classifier sees [c, that cell's output];
- classifier: Linear(64 → 32), ReLU, dropout 0.3, Linear(32 → classes);
- schedule: Adam (lr 1e-2, cosine decay to 0), batches of 64, a fixed number
  of optimiser steps (`STEPS`) whatever the training set's size, so that every
  training set of a study gets the same compute; gradients clipped to norm 1.

Deterministic: weights and batch order come from the given seed, and the fit
runs on one torch thread (for a network this small a second thread bought
nothing: 7.6 s per fit on one, 8.0 s on two; `benchmarks/bench_recognizer.py`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from deepnag.data.preprocessing import PEN_FEATURE, is_pen_data, resample, stroke_parity

log = logging.getLogger(__name__)

POINTS = 16
"""Points each sample is resampled to along its path."""
HIDDEN = 32
"""Width of the GRUs and of the first fully connected layer."""
STEPS = 600
"""Optimiser steps of one fit, whatever the training set's size."""
BATCH = 64
LEARNING_RATE = 1e-2
DROPOUT = 0.3


def standardise(samples: Sequence[np.ndarray], points: int = POINTS) -> np.ndarray:
    """Samples of any lengths → (S, points, D) float32: resampled, centred on their centroid, unit RMS radius.

    Pen data (`is_pen_data`: x, y and a pen state) is resampled stroke by stroke,
    x and y standardised as a 2D path, and the pen state given as each stroke's
    parity (`stroke_parity`), which a recurrent network can carry along the stroke.
    """
    if len(samples) == 0:
        raise ValueError("no samples to standardise")
    widths = {np.asarray(s).shape[-1] for s in samples}
    if len(widths) != 1:
        raise ValueError(f"samples differ in their number of features: {sorted(widths)}")
    samples = [np.asarray(s, dtype=np.float64) for s in samples]
    pen = is_pen_data(samples)
    x = resample(samples, points, pen=pen)
    if not np.isfinite(x).all():
        raise ValueError("samples hold NaN or infinite values")
    if pen:
        parity = stroke_parity(x[..., PEN_FEATURE])[..., None]
        return np.concatenate([_centred(x[..., :PEN_FEATURE], 2), parity], axis=2).astype(np.float32)
    d = x.shape[2]
    return _centred(x, 2 if d == 2 else 3 if d % 3 == 0 else 1).astype(np.float32)  # a stroke, joints, or features


def _centred(x: np.ndarray, width: int) -> np.ndarray:
    """(S, n, D) with D a multiple of `width`: every sample's points (`width` features each) centred on their
    centroid and scaled to unit RMS radius (a sample with all points equal stays at 0)."""
    s, n, d = x.shape
    points_of = x.reshape(s, -1, width)
    centred = points_of - points_of.mean(axis=1, keepdims=True)
    radius = np.sqrt((centred ** 2).sum(axis=2).mean(axis=1))[:, None, None]
    centred = np.divide(centred, radius, out=np.zeros_like(centred), where=radius > 0)
    return centred.reshape(s, n, d)


class Network(nn.Module):
    """Stacked GRUs, DeepGRU's attention led by the last hidden state, two fully connected layers."""

    def __init__(self, num_features: int, num_classes: int, hidden: int = HIDDEN, dropout: float = DROPOUT) -> None:
        super().__init__()
        self.encoder = nn.GRU(num_features, hidden, num_layers=2, batch_first=True)
        self.score = nn.Linear(hidden, hidden, bias=False)
        self.attend = nn.GRUCell(hidden, hidden)
        self.classify = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) → (B, classes) logits."""
        states, _ = self.encoder(x)  # (B, T, H)
        last = states[:, -1]
        weights = torch.softmax(torch.einsum("bth,bh->bt", states, self.score(last)), dim=1)
        context = torch.einsum("bt,bth->bh", weights, states)
        return self.classify(torch.cat([context, self.attend(context, last)], dim=1))


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    """Run the block on `count` torch threads, then restore the caller's setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class GRURecognizer(ClassifierMixin, BaseEstimator):
    """A learned recogniser, a scikit-learn classifier: `fit(X, y)`, then `predict(X)` or `predict_proba(X)`; X a list
    of (T, D) arrays of any lengths. `random_state` seeds the weights, the dropout and the batches; `threads`: torch
    threads of a fit (1, the default, is what makes the fits repeatable)."""

    def __init__(self, random_state: int = 0, steps: int = STEPS, points: int = POINTS, hidden: int = HIDDEN,
                 threads: int = 1) -> None:
        self.random_state = random_state
        self.steps = steps
        self.points = points
        self.hidden = hidden
        self.threads = threads

    def fit(self, X: Sequence[np.ndarray], y: np.ndarray) -> GRURecognizer:  # noqa: N803 (scikit-learn's names)
        """Train a fresh network on the samples (any lengths, the data's units) for `steps` optimiser steps."""
        if self.steps < 1 or self.points < 2 or self.hidden < 1 or self.threads < 1:
            raise ValueError("GRURecognizer needs steps >= 1, points >= 2, hidden >= 1, threads >= 1; got "
                             f"{self.steps}, {self.points}, {self.hidden}, {self.threads}")
        labels = np.asarray(y)
        if len(X) != len(labels):
            raise ValueError(f"{len(X)} samples but {len(labels)} labels")
        if len(X) == 0:
            raise ValueError("a recogniser needs at least one training sample")
        self.classes_, targets = np.unique(labels, return_inverse=True)
        self.network_ = self._train(torch.from_numpy(standardise(X, self.points)),
                                    torch.from_numpy(targets.astype(np.int64)))
        return self

    def _train(self, x: torch.Tensor, y: torch.Tensor) -> Network:
        """A fresh network trained on standardised samples and class indices."""
        seed = int(self.random_state)
        stream = torch.Generator().manual_seed(seed)
        with _threads(int(self.threads)):
            torch.manual_seed(seed)  # the network's initial weights and dropout masks
            network = Network(x.shape[2], len(self.classes_), int(self.hidden))
            optimiser = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, int(self.steps))
            network.train()
            order = torch.randperm(len(x), generator=stream)
            at = 0
            for _ in range(int(self.steps)):
                if at + BATCH > len(order):  # a new pass over the set when the next batch would not fit
                    order, at = torch.randperm(len(x), generator=stream), 0
                batch = order[at:at + BATCH]
                at += BATCH
                loss = nn.functional.cross_entropy(network(x[batch]), y[batch])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(network.parameters(), 1.0)
                optimiser.step()
                schedule.step()
        network.eval()
        return network

    def predict(self, X: Sequence[np.ndarray]) -> np.ndarray:  # noqa: N803
        """The label the network gives each sample."""
        check_is_fitted(self, "network_", msg="call fit before predict")
        if len(X) == 0:
            return self.classes_[:0]
        return self.classes_[self._logits(X).argmax(dim=1).numpy()]

    def predict_proba(self, X: Sequence[np.ndarray]) -> np.ndarray:  # noqa: N803
        """(S, classes) probabilities, columns in the order of `classes_`."""
        check_is_fitted(self, "network_", msg="call fit before predict")
        return torch.softmax(self._logits(X), dim=1).numpy().astype(np.float64)

    def _logits(self, samples: Sequence[np.ndarray]) -> torch.Tensor:
        x = torch.from_numpy(standardise(samples, self.points))
        fitted = self.network_.encoder.input_size
        if x.shape[2] != fitted:
            raise ValueError(f"the recogniser was fitted on {fitted} features; got {x.shape[2]}")
        with _threads(int(self.threads)), torch.no_grad():
            return torch.cat([self.network_(part) for part in torch.split(x, 1024)])


__all__ = ["POINTS", "HIDDEN", "STEPS", "GRURecognizer", "Network", "standardise"]
