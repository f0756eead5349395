"""Measured quality of synthetic gestures: recognition accuracy, fidelity and diversity.

- TSTR: train-on-synthetic, test-on-real accuracy of a standard recogniser
  (trained on the synthetic samples, tested on the real ones), the measure of the DeepNAG paper.
- `subject_disjoint_yardstick`: the same recogniser trained on the real samples
  of half the subjects and tested on the other half (both ways, averaged): what
  real data of unseen writers achieves, the number TSTR is read against.
  `all_metrics` gives both for the 1-NN recogniser and, under "learned", for the
  learned one (`deepnag.recognition.gru_recognizer`).
- `fidelity_diversity`: soft-DTW numbers in normalised units. Fidelity is the
  class-aware average Hausdorff distance (METHOD.md §3) from a reference half of the real
  subjects to the synthetic set, beside the same distance to the other half of
  the real subjects; diversity is the mean soft-DTW between two samples of one
  class, synthetic beside real.
- `all_metrics`: everything above in one JSON-serialisable dict.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from deepnag.config import Config
from deepnag.data.preprocessing import MinMaxNormalizer, normalised
from deepnag.loss.soft_dtw_autograd import soft_dtw_pairs
from deepnag.recognition import gru_recognizer, interface
from deepnag.recognition.recognizers import Recognizer, recognizer_for

log = logging.getLogger(__name__)

PAIR_CHUNK = 4096
"""Sequence pairs given to soft-DTW at once (bounds the memory of the cost matrices)."""

MAX_DIVERSITY_PAIRS = 50_000
"""Above this many same-class pairs, diversity is the mean over a seeded random subset of them."""

DISTANCES = ("ed", "cos")


# ----------------------------------------------------------------------------------------------------------------------
# Recognition accuracy
# ----------------------------------------------------------------------------------------------------------------------
def split_subjects(subjects: Sequence[str], seed: int = 0) -> np.ndarray:
    """A seeded split of the subjects into two halves: a boolean mask over the samples, True for the first half."""
    subjects = np.asarray(subjects)
    names = np.unique(subjects)
    if len(names) < 2:
        raise ValueError(f"a subject-disjoint split needs at least 2 subjects, got {len(names)}")
    first = np.random.default_rng(seed).permutation(names)[: len(names) // 2]
    return np.isin(subjects, first)


def subject_disjoint_yardstick(
    real: Sequence[np.ndarray],
    labels: np.ndarray,
    subjects: Sequence[str],
    num_features: int,
    seed: int = 0,
    recognizer: Recognizer | None = None,
) -> float:
    """Accuracy on real samples of unseen subjects.

    `recognizer` (default `recognizer_for(num_features)`) is trained on the samples of one half of the subjects and
    tested on the other half, then the other way round; the mean of the two.
    """
    labels = np.asarray(labels)
    half = split_subjects(subjects, seed)
    recognizer = recognizer_for(num_features, samples=real) if recognizer is None else recognizer
    accuracies = []
    for train in (half, ~half):
        tr, te = np.flatnonzero(train), np.flatnonzero(~train)
        predicted = interface.predictions(recognizer, [real[i] for i in tr], labels[tr], [real[i] for i in te])
        accuracies.append(float(np.mean(predicted == labels[te])))
    return float(np.mean(accuracies))


# ----------------------------------------------------------------------------------------------------------------------
# Soft-DTW fidelity and diversity
# ----------------------------------------------------------------------------------------------------------------------
def pairwise_soft_dtw(
    x: torch.Tensor,
    y: torch.Tensor,
    first: torch.Tensor,
    second: torch.Tensor,
    distance: str = "ed",
    gamma: float = Config.gamma,
) -> torch.Tensor:
    """soft-DTW between x[first[p]] and y[second[p]] for every p, (P,), in chunks of PAIR_CHUNK pairs.

    `distance` is the loss's 'ed' (squared Euclidean between points) or 'cos' (1 − cosine between direction vectors).
    """
    out = torch.empty(len(first), dtype=x.dtype)
    with torch.no_grad():
        for start in range(0, len(first), PAIR_CHUNK):
            a = x[first[start:start + PAIR_CHUNK]]
            b = y[second[start:start + PAIR_CHUNK]]
            out[start:start + PAIR_CHUNK] = soft_dtw_pairs(a, b, gamma, distance)
    return out


def average_hausdorff(
    a: torch.Tensor,
    a_labels: torch.Tensor,
    b: torch.Tensor,
    b_labels: torch.Tensor,
    distance: str = "ed",
    gamma: float = Config.gamma,
) -> float:
    """Class-aware average Hausdorff distance per sample between sets of any sizes.

    ½ (mean over a of the distance to the nearest same-class b + mean over b of
    the distance to the nearest same-class a): the loss's AHD (METHOD.md §3) divided by the batch
    size, so sets of different sizes give comparable numbers. Samples whose class
    is missing from the other set are left out.
    """
    first, second = torch.nonzero(a_labels[:, None] == b_labels[None, :], as_tuple=True)
    if len(first) == 0:
        raise ValueError("the two sets share no class")
    d = pairwise_soft_dtw(a, b, first, second, distance, gamma)
    nearest_a = torch.full((len(a),), torch.inf, dtype=d.dtype).scatter_reduce(0, first, d, "amin")
    nearest_b = torch.full((len(b),), torch.inf, dtype=d.dtype).scatter_reduce(0, second, d, "amin")
    return 0.5 * float(nearest_a[torch.isfinite(nearest_a)].mean() + nearest_b[torch.isfinite(nearest_b)].mean())


def intra_class_distance(
    x: torch.Tensor, labels: torch.Tensor, distance: str = "ed", gamma: float = Config.gamma, seed: int = 0
) -> tuple[float, int]:
    """Mean soft-DTW between two distinct samples of one class, and the number of pairs used.

    Unordered pairs i < j; the mean of each class, then the mean over classes;
    a seeded subset of MAX_DIVERSITY_PAIRS pairs when there are more. Note that
    soft-DTW of a sequence with itself is not 0 (the soft minimum also counts
    every worse alignment), so a set of identical copies scores about
    sdtw(x, x), a negative number, not 0. Distinct samples can score below 0 too.
    """
    first, second = torch.nonzero((labels[:, None] == labels[None, :]).triu(diagonal=1), as_tuple=True)
    if len(first) == 0:
        raise ValueError("no class has two samples")
    if len(first) > MAX_DIVERSITY_PAIRS:
        pick = torch.randperm(len(first), generator=torch.Generator().manual_seed(seed))[:MAX_DIVERSITY_PAIRS]
        first, second = first[pick], second[pick]
    d = pairwise_soft_dtw(x, x, first, second, distance, gamma).to(torch.float64)
    pair_class = labels[first]
    num_classes = int(labels.max()) + 1
    sums = torch.zeros(num_classes, dtype=torch.float64).index_add_(0, pair_class, d)
    counts = torch.bincount(pair_class, minlength=num_classes)
    present = counts > 0
    return float((sums[present] / counts[present]).mean()), len(first)


def _matched_subsets(labels_1: torch.Tensor, labels_2: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded per-class subsets of two labelled sets with equal counts per class (min of the two), as index tensors."""
    num_classes = int(max(labels_1.max(), labels_2.max())) + 1
    keep = torch.minimum(
        torch.bincount(labels_1, minlength=num_classes), torch.bincount(labels_2, minlength=num_classes)
    )
    stream = torch.Generator().manual_seed(seed)

    def subset(labels: torch.Tensor) -> torch.Tensor:
        order = torch.argsort(labels.to(torch.float64) + torch.rand(len(labels), generator=stream, dtype=torch.float64))
        counts = torch.bincount(labels, minlength=num_classes)
        starts = torch.cumsum(counts, 0) - counts
        rank = torch.empty_like(order)
        rank[order] = torch.arange(len(labels)) - starts[labels[order]]
        return torch.nonzero(rank < keep[labels]).flatten()

    return subset(labels_1), subset(labels_2)


def fidelity_diversity(
    real: torch.Tensor,
    real_labels: torch.Tensor,
    synthetic: torch.Tensor,
    synthetic_labels: torch.Tensor,
    subjects: Sequence[str],
    gamma: float = Config.gamma,
    seed: int = 0,
    distances: Sequence[str] = DISTANCES,
) -> dict[str, Any]:
    """Soft-DTW fidelity and diversity of a synthetic set (K, n, D) against real samples (S, n, D), normalised units.

    The subjects are split in two halves (seeded, as the yardstick). Fidelity:
    `real_synthetic_<m>` = per-sample class-aware average Hausdorff distance from
    the reference half to the synthetic set, beside `real_real_<m>` from the
    reference half to the other half. Both comparison sets are cut (seeded) to the
    same count per class, since a larger set has nearer neighbours. So a copy of
    the other half scores exactly the baseline, and copies of the reference half
    (memorisation) score below it. Diversity: `intra_synthetic_<m>` beside
    `intra_real_<m>` (all real samples), from `intra_class_distance`.
    """
    real = torch.as_tensor(real, dtype=torch.float32)
    synthetic = torch.as_tensor(synthetic, dtype=torch.float32)
    real_labels = torch.as_tensor(np.asarray(real_labels), dtype=torch.int64)
    synthetic_labels = torch.as_tensor(np.asarray(synthetic_labels), dtype=torch.int64)
    if real.shape[1:] != synthetic.shape[1:]:
        raise ValueError(f"real {tuple(real.shape)} and synthetic {tuple(synthetic.shape)} differ in length or features")
    half = torch.from_numpy(split_subjects(subjects, seed))
    other, other_labels = real[~half], real_labels[~half]
    other_index, synthetic_index = _matched_subsets(other_labels, synthetic_labels, seed)
    other, other_labels = other[other_index], other_labels[other_index]
    matched, matched_labels = synthetic[synthetic_index], synthetic_labels[synthetic_index]
    # Reference samples only of the classes both comparison sets hold, so both distances cover the same classes.
    shared = half & torch.isin(real_labels, matched_labels)
    reference, reference_labels = real[shared], real_labels[shared]
    if len(reference) == 0:
        raise ValueError("the synthetic set holds none of the real classes")

    result: dict[str, Any] = {"gamma": float(gamma), "counts": {
        "reference_real": len(reference), "comparison_real": len(other), "comparison_synthetic": len(matched),
        "synthetic": len(synthetic), "real": len(real)}}
    for m in distances:
        result[f"real_synthetic_{m}"] = average_hausdorff(reference, reference_labels, matched, matched_labels, m, gamma)
        result[f"real_real_{m}"] = average_hausdorff(reference, reference_labels, other, other_labels, m, gamma)
        diversity, pairs_synthetic = intra_class_distance(synthetic, synthetic_labels, m, gamma, seed)
        result[f"intra_synthetic_{m}"] = diversity
        result[f"intra_real_{m}"], pairs_real = intra_class_distance(real, real_labels, m, gamma, seed)
        result["counts"]["intra_pairs_synthetic"] = pairs_synthetic
        result["counts"]["intra_pairs_real"] = pairs_real
    return result


# ----------------------------------------------------------------------------------------------------------------------
# Everything at once
# ----------------------------------------------------------------------------------------------------------------------
def recognizer_metrics(
    recognizer: Recognizer,
    real: Sequence[np.ndarray],
    real_labels: np.ndarray,
    subjects: Sequence[str],
    synthetic: Sequence[np.ndarray],
    synthetic_labels: np.ndarray,
    seed: int = 0,
) -> dict[str, Any]:
    """TSTR and the subject-disjoint yardstick of any recogniser (a fresh copy, `random_state` `seed` if it has one)."""
    started = time.perf_counter()
    model = interface.seeded(recognizer, seed)
    num_features = int(np.asarray(real[0]).shape[1])
    tstr_accuracy = float(np.mean(interface.predictions(model, list(synthetic), synthetic_labels, real)
                                  == np.asarray(real_labels)))
    fit_seconds = time.perf_counter() - started
    yardstick = subject_disjoint_yardstick(real, real_labels, subjects, num_features, seed, model)
    return {"recognizer": interface.name_of(recognizer), "tstr_accuracy": tstr_accuracy,
            "yardstick_accuracy": yardstick, "seconds": round(time.perf_counter() - started, 3),
            "fit_seconds": round(fit_seconds, 3)}


def learned_metrics(
    real: Sequence[np.ndarray],
    real_labels: np.ndarray,
    subjects: Sequence[str],
    synthetic: Sequence[np.ndarray],
    synthetic_labels: np.ndarray,
    seed: int = 0,
) -> dict[str, Any]:
    """TSTR and the subject-disjoint yardstick of the learned recogniser (`GRURecognizer`, seeded with `seed`)."""
    recognizer = gru_recognizer.GRURecognizer(steps=gru_recognizer.STEPS)
    return recognizer_metrics(recognizer, real, real_labels, subjects, synthetic, synthetic_labels, seed)


def tstr_per_class(synthetic: np.ndarray, synthetic_labels: np.ndarray, real: Sequence[np.ndarray],
                    real_labels: np.ndarray, num_classes: int) -> tuple[float, np.ndarray]:
    """TSTR of the 1-NN recogniser (`recognizer_for` the real samples): over every real sample, and per class."""
    predicted = recognizer_for(int(synthetic.shape[2]), samples=real).fit(list(synthetic), synthetic_labels).predict(real)
    correct = predicted == real_labels
    per_class = np.bincount(real_labels, weights=correct, minlength=num_classes) / np.maximum(
        np.bincount(real_labels, minlength=num_classes), 1
    )
    return float(correct.mean()), per_class


def _other(recognizer: Recognizer, *data: Any) -> dict[str, Any]:
    """`recognizer_metrics` logged, or {"recognizer", "failed": why} for a recogniser that failed (the others stay)."""
    try:
        measured = recognizer_metrics(recognizer, *data)
    except interface.RecognizerError as error:
        log.warning("%s", error)
        return {"recognizer": interface.name_of(recognizer), "failed": str(error)}
    log.info("%s: TSTR %.4f (yardstick %.4f) in %.1f s", measured["recognizer"], measured["tstr_accuracy"],
             measured["yardstick_accuracy"], measured["seconds"])
    return measured


@contextmanager
def _timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds the block took to `seconds[name]`."""
    started = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - started


def all_metrics(
    real: Sequence[np.ndarray],
    real_labels: np.ndarray,
    subjects: Sequence[str],
    synthetic: np.ndarray,
    synthetic_labels: np.ndarray,
    normalizer: MinMaxNormalizer | None = None,
    *,
    seed: int = 0,
    gamma: float = Config.gamma,
    learned: bool = True,
    recognizers: Sequence[Recognizer] = (),
    missing: dict[str, str] | None = None,
) -> dict[str, Any]:
    """All quality metrics of a synthetic set, as plain JSON-serialisable values.

    `real` are the raw real gestures (variable lengths) and `synthetic` the
    generated ones, (K, n, D), both in the data's units. For the soft-DTW numbers
    both are mapped to normalised units with `normalizer` (default: fitted on
    `real`, as training does) and the real ones resampled to n points. With
    `learned`, TSTR and yardstick of the learned recogniser too (`learned_metrics`; else "learned" is None); under
    "more" those of each of `recognizers` (`recognizer_metrics`), then each of `missing` (name: why not measured).
    """
    real_labels = np.asarray(real_labels, dtype=np.int64)
    synthetic = np.asarray(synthetic, dtype=np.float64)
    synthetic_labels = np.asarray(synthetic_labels, dtype=np.int64)
    num_features = int(synthetic.shape[2])
    num_classes = int(max(real_labels.max(), synthetic_labels.max())) + 1
    seconds: dict[str, float] = {}
    with _timed(seconds, "tstr"):
        tstr_accuracy, per_class = tstr_per_class(synthetic, synthetic_labels, real, real_labels, num_classes)
    with _timed(seconds, "yardstick"):
        yardstick = subject_disjoint_yardstick(real, real_labels, subjects, num_features, seed)
    with _timed(seconds, "fidelity_diversity"):
        normalizer = normalizer if normalizer is not None else MinMaxNormalizer.fit(real)
        real_n = normalised(real, synthetic.shape[1], normalizer)
        soft = fidelity_diversity(torch.from_numpy(real_n), real_labels, torch.from_numpy(normalizer.transform(synthetic)),
                                  synthetic_labels, subjects, gamma=gamma, seed=seed)
    counts = soft.pop("counts")
    log.info("TSTR %.4f (yardstick %.4f); metrics in %.1f s (TSTR %.1f s, yardstick %.1f s, fidelity and diversity %.1f s)",
             tstr_accuracy, yardstick, sum(seconds.values()), seconds["tstr"], seconds["yardstick"],
             seconds["fidelity_diversity"])
    learned_part = learned_metrics(real, real_labels, subjects, synthetic, synthetic_labels, seed) if learned else None
    if learned_part:
        log.info("learned recogniser: TSTR %.4f (yardstick %.4f) in %.1f s", learned_part["tstr_accuracy"],
                 learned_part["yardstick_accuracy"], learned_part["seconds"])
    return {
        "recognizer": type(recognizer_for(num_features, samples=real)).__name__,
        "tstr_accuracy": tstr_accuracy,
        "tstr_accuracy_per_class": [float(a) for a in per_class],
        "yardstick_accuracy": float(yardstick),
        **soft,
        "learned": learned_part,
        "more": [*(_other(r, real, real_labels, subjects, synthetic, synthetic_labels, seed) for r in recognizers),
                 *({"recognizer": k, "missing": v} for k, v in (missing or {}).items())],
        "counts": {"real": len(real), "synthetic": len(synthetic), "classes": num_classes,
                   "subjects": len(set(subjects)), **counts},
        "seed": int(seed),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }
