"""Realism measured by a machine: a classifier two-sample test of real against generated gestures.

A discriminator (the GRU recogniser's network, `gru_recognizer.GRURecognizer`, with two outputs) is trained to tell
real samples from generated ones, equal numbers of each, and tested on samples it did not train on: real ones of
other writers (a subject-disjoint split, so that it cannot win by knowing the test writers) and the other half of
the generated ones (Lopez-Paz and Oquab, "Revisiting Classifier Two-Sample Tests", ICLR 2017). Its test accuracy is
0.5 when the two cannot be told apart and 1.0 when every sample gives itself away; it is the machine's counterpart of
the human HYPE∞ study of the DeepNAG paper (where people are the discriminator). The floor is the same test between
two random halves of the real samples (about 0.5); it is repeated over seeds, each drawing the splits, the subsets
and the discriminator's weights.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from deepnag.evaluation.metrics import split_subjects
from deepnag.recognition import gru_recognizer, interface

log = logging.getLogger(__name__)

SEEDS = 3
"""Seeds the test is repeated over (a GRU fit each: about 7 s on a core)."""


def _subset(count: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` of `count` indices at random, in order (all of them when size >= count)."""
    return np.sort(rng.permutation(count)[:size])


def discriminator_accuracy(real: Sequence[np.ndarray], subjects: Sequence[str], other: Sequence[np.ndarray],
                           seed: int, steps: int | None = None) -> float:
    """Held-out accuracy of a discriminator trained on real samples of half the writers and half of `other`, tested
    on the real samples of the other writers and the other half of `other`; both sides of equal size."""
    rng = np.random.default_rng([seed, 2])
    half = split_subjects(subjects, seed)
    real_train, real_test = np.flatnonzero(half), np.flatnonzero(~half)
    order = rng.permutation(len(other))
    other_train, other_test = order[: len(other) // 2], order[len(other) // 2:]
    n_train, n_test = min(len(real_train), len(other_train)), min(len(real_test), len(other_test))
    if min(n_train, n_test) < 2:
        raise ValueError(f"a two-sample test needs at least 2 samples of each kind on each side; got {n_train}, {n_test}")
    real_train, other_train = (real_train[_subset(len(real_train), n_train, rng)],
                               other_train[_subset(len(other_train), n_train, rng)])
    real_test, other_test = real_test[_subset(len(real_test), n_test, rng)], other_test[_subset(len(other_test), n_test, rng)]
    train = [real[i] for i in real_train] + [other[i] for i in other_train]
    test = [real[i] for i in real_test] + [other[i] for i in other_test]
    labels_train = np.repeat([0, 1], n_train)
    labels_test = np.repeat([0, 1], n_test)
    model = gru_recognizer.GRURecognizer(random_state=seed, steps=gru_recognizer.STEPS if steps is None else steps)
    return float(np.mean(interface.predictions(model, train, labels_train, test) == labels_test))


def two_sample(real: Sequence[np.ndarray], subjects: Sequence[str], synthetic: Sequence[np.ndarray],
               seeds: Sequence[int] = tuple(range(SEEDS)), steps: int | None = None) -> dict[str, Any]:
    """The test of `synthetic` against `real` and its floor (two random halves of `real`), over `seeds`: accuracies,
    their mean and sd, and the seconds it took."""
    started = time.perf_counter()
    subjects = np.asarray(subjects)
    accuracies, floor = [], []
    for seed in seeds:
        accuracies.append(discriminator_accuracy(real, subjects, synthetic, seed, steps))
        rng = np.random.default_rng([seed, 3])
        halves = rng.permutation(len(real))
        first, second = halves[: len(real) // 2], halves[len(real) // 2:]
        floor.append(discriminator_accuracy([real[i] for i in first], subjects[first], [real[i] for i in second], seed,
                                            steps))
    result = {"recognizer": gru_recognizer.GRURecognizer.__name__, "accuracy": _mean_sd(accuracies),
              "accuracies": accuracies, "floor": _mean_sd(floor), "floor_accuracies": floor,
              "seeds": [int(s) for s in seeds], "seconds": round(time.perf_counter() - started, 3)}
    log.info("realism: a discriminator tells real from generated with accuracy %.3f ± %.3f (0.5: not at all; "
             "real against real %.3f) in %.1f s", result["accuracy"]["mean"], result["accuracy"]["sd"],
             result["floor"]["mean"], result["seconds"])
    return result


def _mean_sd(values: Sequence[float]) -> dict[str, float]:
    values = np.asarray(values, dtype=np.float64)
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0}


__all__ = ["SEEDS", "discriminator_accuracy", "two_sample"]
