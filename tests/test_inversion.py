"""benchmarks/inversion.py: a sample's latent found by optimisation, and neighbours sampled around it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.inversion import Neighbourhood, invert  # a benchmark's helper, not the package
from deepnag import checkpoint
from deepnag.data.preprocessing import MinMaxNormalizer
from deepnag.generate.sampling import load_generator
from deepnag.models import Generator

SHIPPED = Path(__file__).resolve().parent.parent / "pretrained_models" / "DeepNAG" / "dollar-gds" / "generator.pt"


@pytest.fixture(scope="module")
def generator() -> Generator:
    """A trained generator: an untrained one barely depends on its latent."""
    return load_generator(checkpoint.load(SHIPPED), str(SHIPPED))


def test_the_latent_search_reproduces_what_the_generator_made(generator):
    labels = torch.tensor([0, 1, 1])
    z0 = torch.randn(3, 16, generator.latent_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        targets = generator(z0, labels)
        start = ((generator(torch.randn(3, 16, generator.latent_dim), labels) - targets) ** 2).mean(dim=(1, 2))
    z, error = invert(generator, targets, labels, steps=150)
    assert z.shape == z0.shape and not z.requires_grad
    assert (error < start / 10).all()  # the search found a latent far better than a random one
    with torch.no_grad():
        np.testing.assert_allclose(((generator(z, labels) - targets) ** 2).mean(dim=(1, 2)), error, rtol=1e-5)
    assert all(p.requires_grad for p in generator.parameters())  # the network is left as it was


def test_neighbours_are_class_major_near_their_sources_and_seeded(generator):
    labels = np.array([1, 0, 1, *range(2, 16)])  # class 0: one sample, class 1: two (rows 0 and 2)
    rng = np.random.default_rng(0)
    sequences = [np.cumsum(rng.normal(size=(20, 2)), axis=0) for _ in labels]
    normalizer = MinMaxNormalizer.fit(sequences)
    near = Neighbourhood(generator, normalizer, sequences, labels, num_classes=16, seq_len=16, steps=20)
    samples, out_labels = near.per_class(3, seed=4, spread=0.0)
    assert samples.shape == (48, 16, 2) and out_labels[:6].tolist() == [0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(samples[0], samples[1])  # class 0 has one source: spread 0 repeats it
    np.testing.assert_array_equal(samples[3], samples[5])  # class 1's sources alternate: rows 0, 2, 0 of labels
    assert not np.allclose(samples[3], samples[4])
    a, _ = near.per_class(3, seed=4, spread=0.5)
    np.testing.assert_array_equal(a, near.per_class(3, seed=4, spread=0.5)[0])
    assert not np.allclose(a, near.per_class(3, seed=5, spread=0.5)[0])
    assert np.abs(a - samples).mean() > 0  # the spread moves the neighbours off their sources
    with pytest.raises(ValueError, match=r"class\(es\) \[1\] have no sample"):
        Neighbourhood(generator, normalizer, sequences[1:2], labels[1:2] * 0, num_classes=2, seq_len=16, steps=1)
