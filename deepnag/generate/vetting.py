"""Generated samples vetted by the training writers' own 1-NN recogniser: only those it puts in their class.

Why (#37): on a five-writer dollar-gds fold a fifth of a trained generator's samples lie nearer another class's real
samples than their own (most of its arrows and curly braces), and as 1-NN templates they pull held-out writers'
samples into the wrong class. Vetting draws `POOL` times the samples wanted and keeps, in the order drawn, those whose
nearest real sample of their own class is within `MARGIN` times the distance to the nearest real sample of any other
class (at 1, the default: those the 1-NN recogniser puts in their class); a class left short is filled by the caller
(with chained variants, say).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from deepnag.data import RawGestures, chain
from deepnag.data.preprocessing import resample
from deepnag.generate.sampling import generate_per_class
from deepnag.models import Generator
from deepnag.recognition.recognizers import recognizer_for

log = logging.getLogger(__name__)

MARGIN = 1.0
"""Kept: nearest real of its own class within this share of the nearest real of another class (1: the 1-NN agrees).
Measured at 0.8 and 1 (docs/findings/vetting.md): level for 1-NN, 1 better for the GRU."""
POOL = 4
"""Candidates drawn per sample wanted."""


def margins(samples: Sequence[np.ndarray], labels: np.ndarray, seen: Sequence[np.ndarray], seen_labels: np.ndarray,
            num_classes: int) -> np.ndarray:
    """Per sample: the 1-NN distance to the seen samples of its own class over that to those of any other class.

    Below 1 the seen samples' 1-NN recogniser (`recognizer_for`) puts the sample in its class; infinite when its class
    has no seen sample; NaN-free (0 / 0 counts as infinite).
    """
    labels, seen_labels = np.asarray(labels, dtype=np.int64), np.asarray(seen_labels, dtype=np.int64)
    distances = recognizer_for(int(np.asarray(seen[0]).shape[1]), samples=seen).distance_matrix(samples, seen)
    order = np.argsort(seen_labels, kind="stable")
    present = np.unique(seen_labels)
    nearest = np.full((len(labels), num_classes), np.inf)
    nearest[:, present] = np.minimum.reduceat(distances[:, order], np.searchsorted(seen_labels[order], present), axis=1)
    rows = np.arange(len(labels))
    own = nearest[rows, labels].copy()
    nearest[rows, labels] = np.inf
    other = nearest.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = own / other
    return np.where(np.isnan(ratio) | np.isinf(own), np.inf, ratio)


def judged(state: dict[str, Any], generator: Generator, k: int, seed: int, seen: Sequence[np.ndarray],
           seen_labels: np.ndarray, pool: int = POOL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The `pool`·k samples per class drawn for `seed` (class-major), their labels and their `margins` against the
    seen samples: what vetting chooses from, apart so that several margins can share one draw."""
    samples, labels = generate_per_class(state, generator, pool * k, seed)
    return samples, labels, margins(list(samples), labels, seen, seen_labels, len(state["class_names"]))


def vetted_per_class(state: dict[str, Any], generator: Generator, k: int, seed: int, seen: Sequence[np.ndarray],
                     seen_labels: np.ndarray, margin: float = MARGIN, pool: int = POOL) -> tuple[np.ndarray, np.ndarray]:
    """Up to `k` generated samples of every class, class-major in the order drawn, of the `pool`·k drawn for `seed`
    those whose `margins` against the seen samples are below `margin` (a class may come back short, or empty)."""
    samples, labels, found = judged(state, generator, k, seed, seen, seen_labels, pool)
    kept = first_below(found, k, margin, len(state["class_names"]))
    return samples[kept], labels[kept]


def first_below(found: np.ndarray, k: int, margin: float, num_classes: int) -> np.ndarray:
    """Which of a class-major draw (the same number per class) to keep: the first `k` of each class whose margin in
    `found` is below `margin`."""
    kept = found < margin
    return kept & (np.cumsum(kept.reshape(num_classes, -1), axis=1).reshape(-1) <= k)


def filled(vetted: tuple[np.ndarray, np.ndarray], fallback: tuple[np.ndarray, np.ndarray], k: int,
           num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """k samples of every class, class-major: a class's vetted samples, then the first of `fallback` (k per class,
    class-major, resampled along their path to the vetted samples' length) for as many as it is short; and per
    class how many were filled."""
    samples, labels = vetted
    spare, _ = fallback
    length = samples.shape[1] if len(samples) else spare.shape[1]
    spare = resample(list(spare), length).astype(samples.dtype) if spare.shape[1] != length else spare
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    j = np.arange(k)[None, :]
    rows = np.where(j < counts[:, None], starts[:, None] + j,
                    len(samples) + np.arange(num_classes)[:, None] * k + j - counts[:, None]).reshape(-1)
    merged = np.concatenate([samples.reshape(-1, *spare.shape[1:]), spare])[rows]
    return merged, np.repeat(np.arange(num_classes), k), np.maximum(k - counts, 0)


def vetted_half(state: dict[str, Any], generator: Generator, k: int, seed: int,
                raw: RawGestures) -> tuple[np.ndarray, np.ndarray]:
    """The generator's half of --synthesizer=vetted-chain-mix: `k` vetted samples per class against the checkpoint's
    training samples, a class short of them filled with chained variants of its training samples (a stream of
    their own)."""
    num_classes = len(state["class_names"])
    kept = vetted_per_class(state, generator, k, seed, raw.sequences, raw.labels)
    spare = chain.per_class(raw.sequences, raw.labels, k, np.random.default_rng([seed, 1]), num_classes)
    samples, labels, short = filled(kept, spare, k, num_classes)
    log.info("vetted: %d of the generator's samples kept (%d per class wanted, %d drawn per class, margin %.2f)%s",
             len(kept[1]), k, POOL * k, MARGIN, "; filled with chained variants: " + ", ".join(
                 f"{raw.class_names[c]} {n}" for c, n in enumerate(short) if n) if short.any() else "")
    return samples, labels


__all__ = ["MARGIN", "POOL", "filled", "first_below", "judged", "margins", "vetted_half", "vetted_per_class"]
