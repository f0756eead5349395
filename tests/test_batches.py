"""Batches: the same-class partner rule (METHOD.md §3), seeding, and the preprocessed real data."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from deepnag.data import RawGestures, chain
from deepnag.data.batches import CHAIN_STREAM, GestureData, load_data, same_class_partners, with_chain_variants
from deepnag.data.preprocessing import resample


def _toy(counts: list[int]) -> GestureData:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(len(counts)), counts)
    raw = RawGestures(
        sequences=tuple(rng.normal(size=(rng.integers(3, 30), 2)) for _ in labels),
        labels=labels,
        class_names=tuple(f"c{i}" for i in range(len(counts))),
        display_names=tuple(f"C{i}" for i in range(len(counts))),
        subjects=tuple("s1" for _ in labels),
    )
    return GestureData.from_raw(raw, 16)


def test_partners_are_same_class_distinct_and_never_self():
    labels = torch.tensor([0] * 5 + [1] * 2 + [2] * 9 + [3] * 1)
    generator = torch.Generator().manual_seed(3)
    for _ in range(50):
        partner = same_class_partners(labels, generator)
        assert torch.equal(labels[partner], labels)
        many = labels != 3
        assert (partner[many] != torch.arange(len(labels))[many]).all()
        assert len(set(partner.tolist())) == len(labels)  # all distinct
    assert partner[-1] == len(labels) - 1  # a class of one has no other choice


def test_partners_are_uniform_over_the_other_samples():
    labels = torch.zeros(4, dtype=torch.long)
    generator = torch.Generator().manual_seed(0)
    hits = torch.zeros(4, 4)
    for _ in range(3000):
        hits[torch.arange(4), same_class_partners(labels, generator)] += 1
    assert hits.diagonal().sum() == 0
    off = hits[~torch.eye(4, dtype=torch.bool)] / 3000
    assert (off - 1 / 3).abs().max() < 0.04


def test_epoch_covers_every_sample_once_and_is_seeded():
    data = _toy([7, 5, 11])
    batches = list(data.batches(4, torch.Generator().manual_seed(9)))
    assert [len(b.labels) for b in batches] == [4, 4, 4, 4, 4, 3]
    seen = torch.cat([b.real_1 for b in batches])
    assert torch.equal(torch.sort(seen.flatten())[0], torch.sort(data.samples.flatten())[0])
    for b in batches:
        # real_2 holds samples of the same class as real_1
        partner_labels = [data.labels[(data.samples == x).all(-1).all(-1)].item() for x in b.real_2]
        assert partner_labels == b.labels.tolist()
    again = list(data.batches(4, torch.Generator().manual_seed(9)))
    assert all(torch.equal(a.real_1, b.real_1) and torch.equal(a.real_2, b.real_2) for a, b in zip(batches, again))


def test_from_raw_normalises_then_resamples():
    data = _toy([3, 3])
    assert data.samples.shape == (6, 16, 2) and data.samples.dtype == torch.float32
    assert data.samples.min() >= -1 - 1e-6 and data.samples.max() <= 1 + 1e-6
    assert data.num_classes == 2 and data.num_features == 2 and data.seq_len == 16


@pytest.mark.parametrize("name, count, classes, features", [("dollar-gds", 1600, 16, 2), ("jk2017-kinect", 560, 14, 63)])
def test_real_data_loads_and_preprocesses_quickly(shared_data, name, count, classes, features):
    start = time.perf_counter()
    data = load_data(name, str(shared_data))
    elapsed = time.perf_counter() - start
    assert (len(data), data.num_classes, data.num_features, data.seq_len) == (count, classes, features, 64)
    assert data.samples.abs().max() <= 1.0 + 1e-6
    assert elapsed < 30  # generous bound for a loaded CI machine; the benchmark figure is ~1-2 s


def _raw(counts: list[int], features: int = 2) -> RawGestures:
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(len(counts)), counts)
    return RawGestures(
        sequences=tuple(rng.normal(size=(rng.integers(5, 30), features)) for _ in labels),
        labels=labels,
        class_names=tuple(f"c{i}" for i in range(len(counts))),
        display_names=tuple(f"C{i}" for i in range(len(counts))),
        subjects=tuple(f"w{i % 2}" for i in range(len(labels))),
    )


def test_chain_variants_follow_the_real_samples_with_their_sources_class_and_writer():
    raw = _raw([3, 4])
    assert with_chain_variants(raw, 0, 5) is raw
    grown = with_chain_variants(raw, 2, 5)
    assert len(grown.sequences) == 3 * len(raw.sequences)
    assert all(a is b for a, b in zip(grown.sequences, raw.sequences))  # the real samples first, untouched
    assert grown.labels.tolist() == raw.labels.tolist() + np.repeat(raw.labels, 2).tolist()
    assert grown.subjects == raw.subjects + tuple(s for s in raw.subjects for _ in range(2))
    assert all(type(s) is str for s in grown.subjects)
    expected, _ = chain.per_sample(raw.sequences, raw.labels, 2, np.random.default_rng([5, CHAIN_STREAM]))
    np.testing.assert_array_equal(np.stack(grown.sequences[len(raw.sequences):]), expected)
    again = with_chain_variants(raw, 2, 5)
    other = with_chain_variants(raw, 2, 6)
    assert all(np.array_equal(a, b) for a, b in zip(grown.sequences, again.sequences))  # seeded: every rank alike
    assert not np.array_equal(grown.sequences[-1], other.sequences[-1])
    # Each variant is a chain of its own source: near it in size, not a copy of it.
    for i in (0, 4):
        source, variant = raw.sequences[i], grown.sequences[len(raw.sequences) + 2 * i]
        assert 0.5 < np.ptp(variant, axis=0).sum() / np.ptp(source, axis=0).sum() < 2
        assert not np.allclose(resample([variant], 8), resample([source], 8))


def test_training_data_with_chain_variants_is_normalised_over_the_variants_too(monkeypatch):
    from deepnag.config import Config
    from deepnag.data import batches

    raw = _raw([6, 6])
    monkeypatch.setattr(batches, "training_raw_for", lambda config, datapath=None: raw)
    config = Config(chain_variants=3, resample_n=16, seed=2)
    data = batches.training_data_for(config)
    real = batches.load_data_for(config)
    assert len(data) == 4 * len(real) and data.subject_names == real.subject_names == ("w0", "w1")
    assert data.samples.abs().max() <= 1 + 1e-6 and data.samples.min() < -0.9 and data.samples.max() > 0.9
    points = np.concatenate(with_chain_variants(raw, 3, 2).sequences)
    np.testing.assert_allclose(data.normalizer.minimum, points.min(axis=0))
    np.testing.assert_allclose(data.normalizer.maximum, points.max(axis=0))
    assert (data.normalizer.minimum < real.normalizer.minimum).any()  # wider than the real samples alone


def test_the_real_part_of_chain_variant_training_data_is_the_real_samples_in_the_training_units(monkeypatch):
    from deepnag.config import Config
    from deepnag.data import batches

    raw = _raw([5, 5])
    monkeypatch.setattr(batches, "training_raw_for", lambda config, datapath=None: raw)
    plain = batches.training_data_for(Config(resample_n=16))
    assert batches.real_part(plain, Config(resample_n=16)) is plain
    config = Config(chain_variants=2, resample_n=16, seed=3)
    data = batches.training_data_for(config)
    real = batches.real_part(data, config)
    assert len(real) == len(raw.sequences) and real.normalizer is data.normalizer
    torch.testing.assert_close(real.samples, data.samples[:len(real)])  # the real samples lead the training set
