"""Training data: preprocessed gestures and the batches of DeepNAG's training step (METHOD.md §3).

Raw gestures (from `deepnag.data`) are normalised to [-1, 1] per feature and
resampled to n points; `GestureData.batches` then yields, per epoch, shuffled
batches `(real_1, labels, real_2)` where `real_2[i]` is another sample of the
class of `real_1[i]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, NamedTuple

import numpy as np
import torch

from deepnag.data import RawGestures, chain, load_raw, stroke_order
from deepnag.data.preprocessing import MinMaxNormalizer, is_pen_data, normalised
from deepnag.data.subjects import training_set
from deepnag.errors import UserError

if TYPE_CHECKING:
    from deepnag.config import Config


class Batch(NamedTuple):
    """One training batch: real samples, their labels, and same-class partners."""

    real_1: torch.Tensor  # (B, n, D)
    labels: torch.Tensor  # (B,) int64
    real_2: torch.Tensor  # (B, n, D)


@dataclass(frozen=True)
class GestureData:
    """The preprocessed training set and what the models need to know about it."""

    samples: torch.Tensor  # (S, n, D) float32, normalised units
    labels: torch.Tensor  # (S,) int64
    class_names: tuple[str, ...]
    display_names: tuple[str, ...]
    subjects: tuple[str, ...]
    normalizer: MinMaxNormalizer

    @classmethod
    def from_raw(cls, raw: RawGestures, resample_n: int, normalizer: MinMaxNormalizer | None = None) -> "GestureData":
        """Normalise (factors from all raw points, unless `normalizer` is given) and resample every sample to
        `resample_n` points (`preprocessing.normalised`)."""
        counts = np.bincount(raw.labels, minlength=len(raw.class_names))
        if (counts == 0).any():
            empty = [raw.class_names[i] for i in np.flatnonzero(counts == 0)]
            raise UserError(f"class(es) {', '.join(empty)} have no samples; the data set looks incomplete")
        normalizer = normalizer or MinMaxNormalizer.fit(raw.sequences)
        samples = normalised(raw.sequences, resample_n, normalizer)
        return cls(
            samples=torch.from_numpy(samples.astype(np.float32)),
            labels=torch.from_numpy(np.asarray(raw.labels, dtype=np.int64)),
            class_names=raw.class_names,
            display_names=raw.display_names,
            subjects=raw.subjects,
            normalizer=normalizer,
        )

    @property
    def subject_names(self) -> tuple[str, ...]:
        """The distinct subjects of the training set, sorted: the writers a model trained on it has seen."""
        return tuple(sorted(set(self.subjects)))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_features(self) -> int:
        return int(self.samples.shape[2])

    @property
    def seq_len(self) -> int:
        return int(self.samples.shape[1])

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    def to(self, device: torch.device | str) -> "GestureData":
        """The same data with its tensors on `device` (batches are then built there)."""
        return GestureData(
            self.samples.to(device), self.labels.to(device), self.class_names,
            self.display_names, self.subjects, self.normalizer,
        )

    def samples_of_class(self, label: int) -> torch.Tensor:
        """All samples of one class, (S_c, n, D)."""
        return self.samples[self.labels == label]

    def batches_per_epoch(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)

    def batches(self, batch_size: int, generator: torch.Generator, rank: int = 0, world_size: int = 1) -> Iterator[Batch]:
        """One epoch: a seeded shuffle split into batches (the last may be smaller).

        With several ranks (same generator state on each), rank r takes the r-th of
        `world_size` disjoint, equal shards of the shuffle (a remainder of fewer than
        `world_size` samples is left out that epoch, so every rank runs as many steps).
        """
        order = torch.randperm(len(self), generator=generator)
        if world_size > 1:
            order = order[: len(order) - len(order) % world_size][rank::world_size]
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            partner = same_class_partners(self.labels.cpu(), generator)[index]
            device = self.samples.device
            yield Batch(self.samples[index.to(device)], self.labels[index.to(device)],
                        self.samples[partner.to(device)])

    def random_batch(self, batch_size: int, generator: torch.Generator) -> Batch:
        """A fresh batch of distinct random samples (DeepGAN draws one per critic step)."""
        index = torch.randperm(len(self), generator=generator)[:batch_size]
        partner = same_class_partners(self.labels.cpu(), generator)[index]
        device = self.samples.device
        return Batch(self.samples[index.to(device)], self.labels[index.to(device)], self.samples[partner.to(device)])


def same_class_partners(labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """For every sample, a random other sample of the same class, all distinct.

    Arranges each class in a uniformly random cycle and maps every sample to its
    successor: the successor is uniform among the class's other samples, never
    the sample itself (unless it is alone in its class), and no two samples share
    a partner. Vectorised: one sort of random keys per call.
    """
    labels = labels.to(torch.int64)
    keys = torch.rand(labels.shape[0], generator=generator, dtype=torch.float64)
    order = torch.argsort(labels.to(torch.float64) + keys)  # by class, random within class
    counts = torch.bincount(labels)
    starts = torch.cumsum(counts, 0) - counts
    position = torch.empty_like(order)
    position[order] = torch.arange(labels.shape[0])
    first = starts[labels]
    successor = first + (position - first + 1) % counts[labels]
    return order[successor]


def training_raw(
    dataset: str,
    datapath: str,
    *,
    speeds: tuple[str, ...] = ("medium",),
    mmg_device: str = "both",
    classes: tuple[str, ...] = (),
    max_per_class: int = 0,
    download_url: str | None = None,
    subject_pattern: str = "",
    subjects: tuple[str, ...] = (),
    holdout_subjects: tuple[str, ...] = (),
    train_subject_count: int = 0,
    seed: int = 0,
) -> RawGestures:
    """Files on disk (downloaded if missing) → the raw gestures of the chosen classes and subjects.

    Classes first, then subjects (`deepnag.data.subjects.training_set`, seeded by
    `seed`), then `max_per_class`.
    """
    raw = load_raw(dataset, datapath, speeds=speeds, mmg_device=mmg_device, download_url=download_url,
                   subject_pattern=subject_pattern)
    raw = training_set(raw.select(classes), subjects, holdout_subjects, train_subject_count, seed)
    return raw.select((), max_per_class)


def load_data(dataset: str, datapath: str, *, resample_n: int = 64, **selection) -> GestureData:
    """`training_raw` preprocessed: the normaliser is fitted on the training set only, so held-out writers never
    shape it."""
    return GestureData.from_raw(training_raw(dataset, datapath, **selection), resample_n)


def training_raw_for(config: "Config", datapath: str | None = None) -> RawGestures:
    """The raw training set a configuration describes (optionally from another `datapath`)."""
    return training_raw(config.dataset, datapath or config.datapath, speeds=config.speeds, mmg_device=config.mmg_device,
                        classes=config.classes, max_per_class=config.max_per_class, download_url=config.download_url,
                        subject_pattern=config.subject_pattern, subjects=config.subjects,
                        holdout_subjects=config.holdout_subjects, train_subject_count=config.train_subject_count,
                        seed=config.seed)


def load_data_for(config: "Config", datapath: str | None = None) -> GestureData:
    """The real training samples a configuration describes (optionally from another `datapath`)."""
    return GestureData.from_raw(training_raw_for(config, datapath), config.resample_n)


CHAIN_STREAM = 7_919
"""The random stream of `--chain-variants`, apart from the seed's other uses (subjects, weights, batches)."""


def with_chain_variants(raw: RawGestures, k: int, seed: int) -> RawGestures:
    """`raw` followed by `k` chained variants of each of its samples (`deepnag.data.chain`), each with its source's
    class and writer, drawn from `seed`: what `--chain-variants` trains on (the same for every rank and resume)."""
    if k == 0:
        return raw
    extra, labels = chain.per_sample(raw.sequences, raw.labels, k, np.random.default_rng([seed, CHAIN_STREAM]))
    dtype = raw.sequences[0].dtype
    return RawGestures(raw.sequences + tuple(extra.astype(dtype)), np.concatenate([raw.labels, labels]),
                       raw.class_names, raw.display_names, raw.subjects + tuple(np.repeat(np.asarray(raw.subjects), k).tolist()))


def in_stroke_order(raw: RawGestures, order: str) -> RawGestures:
    """`raw` with its strokes as `--stroke-order` says: as drawn, or each sample `stroke_order.canonical`."""
    if order == "drawn":
        return raw
    if not is_pen_data(raw.sequences):
        raise UserError(f"--stroke-order={order} needs multistroke pen samples (x, y and a pen state of 0 and 1, "
                        "as --dataset=mmg has); these have none: leave the flag out")
    return RawGestures(tuple(stroke_order.canonical(s) for s in raw.sequences), raw.labels, raw.class_names,
                       raw.display_names, raw.subjects)


def real_part(data: GestureData, config: "Config") -> GestureData:
    """The real samples of a run's training data (without its `--chain-variants`), in the same normalised units."""
    if not config.chain_variants:
        return data
    real = GestureData.from_raw(in_stroke_order(training_raw_for(config), config.stroke_order), config.resample_n,
                                data.normalizer)
    return real.to(data.samples.device)


def training_data_for(config: "Config") -> GestureData:
    """What a run trains on: the real training samples and their `--chain-variants`, normalised together (so the
    normaliser covers the variants' wider range)."""
    raw = in_stroke_order(training_raw_for(config), config.stroke_order)
    return GestureData.from_raw(with_chain_variants(raw, config.chain_variants, config.seed), config.resample_n)
