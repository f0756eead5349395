"""From a checkpoint to samples: the stored generator, a seeded latent, and the normaliser undone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deepnag import checkpoint
from deepnag.generate.sampling import generate, generate_per_class, load_generator, normalizer_from

SHIPPED = Path(__file__).resolve().parent.parent / "pretrained_models" / "DeepNAG" / "dollar-gds" / "generator.pt"


@pytest.fixture(scope="module")
def state() -> dict:
    return checkpoint.load(SHIPPED)


def test_generate_is_seeded_and_in_normalised_units(state):
    generator = load_generator(state, str(SHIPPED))
    labels = torch.tensor([0, 3, 3])
    a = generate(generator, labels, 64, seed=5)
    assert a.shape == (3, 64, 2)
    np.testing.assert_array_equal(a, generate(generator, labels, 64, seed=5))
    assert not np.allclose(a, generate(generator, labels, 64, seed=6))
    assert np.abs(a).max() < 3  # the normalised range is [-1, 1]; a generator may overshoot a little


def test_per_class_samples_are_the_normaliser_undone(state):
    generator = load_generator(state, str(SHIPPED))
    samples, labels = generate_per_class(state, generator, 2, seed=1)
    assert samples.dtype == np.float32 and labels.dtype == np.int64
    assert labels.tolist() == np.repeat(np.arange(16), 2).tolist()
    normalised = generate(generator, torch.from_numpy(labels), 64, seed=1)
    lo, hi = state["normalizer"]["minimum"].numpy(), state["normalizer"]["maximum"].numpy()
    np.testing.assert_allclose(samples, (normalised + 1) / 2 * (hi - lo) + lo, rtol=1e-5)
    np.testing.assert_allclose(normalizer_from(state).transform(samples), normalised, atol=1e-4)


def test_weights_of_another_shape_are_a_one_line_error(state):
    broken = {**state, "num_features": 3}
    with pytest.raises(checkpoint.CheckpointError, match="its generator weights do not fit this project's generator") as e:
        load_generator(broken, "broken.pt")
    assert "\n" not in str(e.value)


def test_a_spread_scales_the_latent_the_generator_is_given(state):
    generator = load_generator(state, str(SHIPPED))
    labels = torch.tensor([1, 2])
    z = torch.randn(2, 64, generator.latent_dim, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = generator(1.5 * z, labels).numpy()
    np.testing.assert_allclose(generate(generator, labels, 64, seed=5, spread=1.5), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(generate(generator, labels, 64, seed=5, spread=1.0),
                                  generate(generator, labels, 64, seed=5))
    wide, _ = generate_per_class(state, generator, 6, seed=1, spread=2.0)
    narrow, _ = generate_per_class(state, generator, 6, seed=1, spread=0.5)
    assert wide.std(axis=0).mean() > narrow.std(axis=0).mean()  # a wider latent, more varied samples


def test_samples_do_not_depend_on_the_block_they_are_generated_in(state, monkeypatch):
    """Generation runs in blocks (bounded memory); the latent is drawn whole first, so each sample is the same (to
    float32 rounding: matrix products of another batch size may round differently)."""
    from deepnag.generate import sampling

    generator = load_generator(state, str(SHIPPED))
    labels = torch.arange(16).repeat_interleave(4)
    whole = generate(generator, labels, 64, seed=2)
    monkeypatch.setattr(sampling, "GENERATE_BLOCK", 5)  # 13 blocks, the last one short
    np.testing.assert_allclose(generate(generator, labels, 64, seed=2), whole, rtol=0, atol=2e-6)
    assert not np.allclose(generate(generator, labels, 64, seed=3), whole, atol=1e-2)
