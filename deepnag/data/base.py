"""What every data-set reader returns: raw gestures with labels and subjects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepnag.errors import UserError


def is_number(text: str | None) -> bool:
    """Whether `float(text)` succeeds (used to point at the bad cell of a failed bulk conversion)."""
    try:
        float(text)  # type: ignore[arg-type]
        return True
    except (TypeError, ValueError):
        return False


class DataFormatError(UserError):
    """A data file does not match its format; the message names the file (and line)."""


@dataclass(frozen=True)
class RawGestures:
    """Variable-length gestures in the data set's own units, before preprocessing.

    `class_names` are the data set's keys (folder names, used in files and
    checkpoints); `display_names` are for figures. `subjects` gives each sample's
    writer, for subject-disjoint evaluation.
    """

    sequences: tuple[np.ndarray, ...]
    labels: np.ndarray
    class_names: tuple[str, ...]
    display_names: tuple[str, ...]
    subjects: tuple[str, ...]

    def __post_init__(self) -> None:
        if not (len(self.sequences) == len(self.labels) == len(self.subjects)):
            raise ValueError("sequences, labels and subjects must have the same length")

    @property
    def num_features(self) -> int:
        return int(self.sequences[0].shape[1])

    def select(self, classes: tuple[str, ...] = (), max_per_class: int = 0) -> "RawGestures":
        """Keep only the named classes and at most `max_per_class` samples of each (in file order)."""
        if not classes and not max_per_class:
            return self
        if classes:
            unknown = [c for c in classes if c not in self.class_names]
            if unknown:
                raise UserError(
                    f"unknown class(es) {', '.join(unknown)} in --classes; known: {', '.join(self.class_names)}"
                )
            kept_classes = [c for c in self.class_names if c in classes]
        else:
            kept_classes = list(self.class_names)
        old_ids = np.array([self.class_names.index(c) for c in kept_classes])
        keep = np.isin(self.labels, old_ids)
        if max_per_class:
            # Rank of each sample within its class, in file order.
            order = np.argsort(self.labels, kind="stable")
            ranks = np.empty(len(self.labels), dtype=np.int64)
            counts = np.bincount(self.labels, minlength=len(self.class_names))
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            ranks[order] = np.arange(len(order)) - np.repeat(starts, counts)
            keep &= ranks < max_per_class
        remap = np.full(len(self.class_names), -1)
        remap[old_ids] = np.arange(len(old_ids))
        idx = np.flatnonzero(keep)
        return RawGestures(
            sequences=tuple(self.sequences[i] for i in idx),
            labels=remap[self.labels[idx]],
            class_names=tuple(kept_classes),
            display_names=tuple(self.display_names[i] for i in old_ids),
            subjects=tuple(self.subjects[i] for i in idx),
        )
