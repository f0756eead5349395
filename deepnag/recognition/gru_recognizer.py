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
from torch import nn

from deepnag.data.preprocessing import resample

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
    """Samples of any lengths → (S, points, D) float32: resampled, centred on their centroid, unit RMS radius."""
    if len(samples) == 0:
        raise ValueError("no samples to standardise")
    widths = {np.asarray(s).shape[-1] for s in samples}
    if len(widths) != 1:
        raise ValueError(f"samples differ in their number of features: {sorted(widths)}")
    x = resample([np.asarray(s, dtype=np.float64) for s in samples], points)
    if not np.isfinite(x).all():
        raise ValueError("samples hold NaN or infinite values")
    s, n, d = x.shape
    width = 2 if d == 2 else 3 if d % 3 == 0 else 1  # one point of the stroke, one joint, or one feature
    points_of = x.reshape(s, -1, width)
    centred = points_of - points_of.mean(axis=1, keepdims=True)
    radius = np.sqrt((centred ** 2).sum(axis=2).mean(axis=1))[:, None, None]
    centred = np.divide(centred, radius, out=np.zeros_like(centred), where=radius > 0)
    return centred.reshape(s, n, d).astype(np.float32)


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


class GRURecognizer:
    """A learned recogniser with the 1-NN recognisers' interface: `fit(samples, labels)`, then `predict(samples)`."""

    def __init__(self, seed: int = 0, steps: int = STEPS, points: int = POINTS, hidden: int = HIDDEN,
                 threads: int = 1) -> None:
        if steps < 1 or points < 2 or hidden < 1 or threads < 1:
            raise ValueError("GRURecognizer needs steps >= 1, points >= 2, hidden >= 1, threads >= 1; got "
                             f"{steps}, {points}, {hidden}, {threads}")
        self.seed, self.steps, self.points, self.hidden = int(seed), int(steps), int(points), int(hidden)
        self.threads = int(threads)  # torch threads of a fit; 1 (the default) is what makes the fits repeatable
        self._network: Network | None = None
        self._classes: np.ndarray | None = None

    def fit(self, samples: Sequence[np.ndarray], labels: np.ndarray) -> GRURecognizer:
        """Train a fresh network on the samples (any lengths, the data's units) for `steps` optimiser steps."""
        labels = np.asarray(labels)
        if len(samples) != len(labels):
            raise ValueError(f"{len(samples)} samples but {len(labels)} labels")
        if len(samples) == 0:
            raise ValueError("a recogniser needs at least one training sample")
        return self.fit_standardised(standardise(samples, self.points), labels)

    def fit_standardised(self, x: np.ndarray, labels: np.ndarray) -> GRURecognizer:
        """`fit` on samples already through `standardise` (what a study that reuses them passes)."""
        self._classes, targets = np.unique(np.asarray(labels), return_inverse=True)
        x = torch.from_numpy(np.asarray(x, dtype=np.float32))
        y = torch.from_numpy(targets.astype(np.int64))
        stream = torch.Generator().manual_seed(self.seed)
        with _threads(self.threads):
            torch.manual_seed(self.seed)  # the network's initial weights and dropout masks
            network = Network(x.shape[2], len(self._classes), self.hidden)
            optimiser = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, self.steps)
            network.train()
            order = torch.randperm(len(x), generator=stream)
            at = 0
            for _ in range(self.steps):
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
        self._network = network
        return self

    def predict(self, samples: Sequence[np.ndarray]) -> np.ndarray:
        """The label the network gives each sample."""
        if self._network is None or self._classes is None:
            raise RuntimeError("call fit before predict")
        if len(samples) == 0:
            return self._classes[:0]
        return self.predict_standardised(standardise(samples, self.points))

    def predict_standardised(self, x: np.ndarray) -> np.ndarray:
        """`predict` on samples already through `standardise`."""
        if self._network is None or self._classes is None:
            raise RuntimeError("call fit before predict")
        x = torch.from_numpy(np.asarray(x, dtype=np.float32))
        fitted = self._network.encoder.input_size
        if x.shape[2] != fitted:
            raise ValueError(f"the recogniser was fitted on {fitted} features; got {x.shape[2]}")
        with _threads(self.threads), torch.no_grad():
            logits = torch.cat([self._network(part) for part in torch.split(x, 1024)])
        return self._classes[logits.argmax(dim=1).numpy()]


__all__ = ["POINTS", "HIDDEN", "STEPS", "GRURecognizer", "Network", "standardise"]
