"""Which writers a run trains on: `--subjects`, `--holdout-subjects` and `--train-subject-count`.

Keeping some writers out of training is what lets `--metrics` ask the question
users care about: does synthetic data help a recogniser for people it never saw?
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepnag.data.base import RawGestures
from deepnag.errors import UserError


def _listed(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def choose(
    available: Sequence[str],
    subjects: Sequence[str] = (),
    holdout: Sequence[str] = (),
    count: int = 0,
    seed: int = 0,
) -> tuple[str, ...]:
    """The training subjects, sorted: `subjects` (default all) minus `holdout`, then a seeded `count` of them.

    `count` 0 keeps them all; otherwise `count` distinct subjects are drawn with
    `numpy.random.default_rng(seed)`, so the same seed always picks the same writers.
    """
    known = sorted(set(available))
    for flag, names in (("--subjects", subjects), ("--holdout-subjects", holdout)):
        unknown = [s for s in names if s not in known]
        if unknown:
            raise UserError(f"unknown subject(s) {', '.join(unknown)} in {flag}; known: {_listed(known)}")
    both = sorted(set(subjects) & set(holdout))
    if both:
        raise UserError(f"subject(s) {', '.join(both)} are in both --subjects and --holdout-subjects; pick one")
    pool = [s for s in (sorted(set(subjects)) or known) if s not in set(holdout)]
    if not pool:
        raise UserError(f"--holdout-subjects keeps out every subject ({_listed(known)}); leave at least one to train on")
    if count:
        if count > len(pool):
            raise UserError(f"--train-subject-count={count} is more than the {len(pool)} subjects to choose from "
                            f"({_listed(pool)})")
        pool = sorted(np.random.default_rng(seed).choice(pool, size=count, replace=False).tolist())
    return tuple(pool)


def keep(raw: RawGestures, names: Sequence[str]) -> RawGestures:
    """Only the samples of subjects `names`; every class must keep a sample."""
    if set(names) >= set(raw.subjects):
        return raw
    mask = np.isin(np.asarray(raw.subjects), list(names))
    counts = np.bincount(raw.labels[mask], minlength=len(raw.class_names))
    if (counts == 0).any():
        empty = [raw.class_names[i] for i in np.flatnonzero(counts == 0)]
        raise UserError(f"class(es) {', '.join(empty)} have no samples from subject(s) {_listed(list(names))}; "
                        "choose other --subjects (or leave --classes out of it)")
    index = np.flatnonzero(mask)
    return RawGestures(
        sequences=tuple(raw.sequences[i] for i in index),
        labels=raw.labels[index],
        class_names=raw.class_names,
        display_names=raw.display_names,
        subjects=tuple(raw.subjects[i] for i in index),
    )


def training_set(raw: RawGestures, subjects: Sequence[str] = (), holdout: Sequence[str] = (), count: int = 0,
                 seed: int = 0) -> RawGestures:
    """The samples of the subjects `choose` picks from `raw`."""
    if not subjects and not holdout and not count:
        return raw
    return keep(raw, choose(raw.subjects, subjects, holdout, count, seed))


__all__ = ["choose", "keep", "training_set"]
