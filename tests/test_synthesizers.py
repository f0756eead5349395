"""The synthesizer registry walked whole: every name writes samples through the CLI and the API and is a row of the
held-out study under that same name; the building blocks compose as documented."""

from __future__ import annotations

import numpy as np
import pytest

import main
from deepnag import checkpoint, load_generator
from deepnag.data import RawGestures
from deepnag.data.batches import training_raw_for
from deepnag.data.preprocessing import resample
from deepnag.errors import UserError
from deepnag.evaluation import augmentation
from deepnag.generate.synthesizers import CHAIN, GPSR, SYNTHESIZERS, Sources, mix, then
from tests.conftest import ROOT

MODEL = ROOT / "pretrained_models" / "DeepNAG" / "dollar-gds-2-writers" / "generator.pt"


def _toy_sources() -> Sources:
    rng = np.random.default_rng(0)
    sequences = tuple(rng.random((20 + i, 2)).cumsum(0) for i in range(6))
    raw = RawGestures(sequences, np.array([0, 0, 1, 1, 2, 2]), ("a", "b", "c"), ("a", "b", "c"), ("w",) * 6)
    return Sources(raw, 16)


def test_a_mix_takes_the_rest_of_its_first_block_then_its_share_of_the_second():
    sources, k = _toy_sources(), 8
    samples, labels = mix(GPSR, CHAIN, 0.25)(sources, k, 5)
    assert samples.shape == (3 * k, 16, 2) and labels.tolist() == np.repeat([0, 1, 2], k).tolist()
    first, _ = GPSR(sources, 6, 5)
    second, _ = CHAIN(sources, 2, 5)
    per_class = samples.reshape(3, k, 16, 2)
    np.testing.assert_array_equal(per_class[:, :6].reshape(-1, 16, 2), resample(list(first), 16).astype(np.float32))
    np.testing.assert_array_equal(per_class[:, 6:].reshape(-1, 16, 2), resample(list(second), 16).astype(np.float32))


def test_then_gives_one_variant_of_each_sample_of_its_first_block():
    sources = _toy_sources()
    samples, labels = then(GPSR, CHAIN)(sources, 4, 3)
    drawn, drawn_labels = GPSR(sources, 4, 3)
    assert samples.shape == drawn.shape and labels.tolist() == drawn_labels.tolist()
    assert not np.allclose(samples, drawn)  # each went through the chain
    with pytest.raises(ValueError, match="not a simple block"):
        then(GPSR, mix(GPSR, CHAIN))


def test_every_name_is_a_row_of_the_held_out_study():
    rng = np.random.default_rng(1)
    seen = [rng.random((12, 2)) for _ in range(6)]
    test = [rng.random((12, 2)) for _ in range(6)]
    labels = np.array([0, 0, 1, 1, 2, 2])

    def drawn(k: int, seed: int):
        return np.random.default_rng(seed).random((3 * k, 12, 2)), np.repeat(np.arange(3), k)

    result = augmentation.study(seen, labels, test, labels, 3, drawn, counts=(2,), seeds=(0,), vetted=drawn,
                                learned=False)
    assert sorted(row["added"] for row in result["rows"]) == sorted(SYNTHESIZERS)


@pytest.mark.parametrize("name", list(SYNTHESIZERS))
def test_every_name_writes_samples_through_the_cli_and_the_api(name, shared_data, tmp_path):
    synthesizer = SYNTHESIZERS[name]
    argv = [f"--synthesizer={name}", f"--output={tmp_path / name}", f"--datapath={shared_data}"]
    argv += [f"--generate={MODEL}", "--num-per-class=4"] if synthesizer.needs_checkpoint else [
        "--dataset=dollar-gds", "--subjects=s06,s08", "--num-per-sample=1"]
    assert main.main(argv) == 0
    written = np.load(tmp_path / f"{name}.npz")
    assert len(written["samples"]) == len(written["labels"]) > 0
    generator = load_generator(MODEL)
    saved = checkpoint.config_of(checkpoint.load(MODEL))
    raw = training_raw_for(saved, str(shared_data))
    samples, labels = generator.synthesize(name, raw.sequences, raw.labels, 4, saved.seed)
    assert samples.shape == (16 * 4, generator.seq_len, 2) and labels.tolist() == np.repeat(np.arange(16), 4).tolist()
    if synthesizer.needs_checkpoint:  # the same draws as the command line's
        np.testing.assert_array_equal(samples, written["samples"])


def test_the_api_names_an_unknown_synthesizer_and_bad_samples_in_one_line():
    generator = load_generator(MODEL)
    with pytest.raises(UserError, match="^synthesize\\(\\) has no synthesizer 'perlin'; known: generator, gpsr"):
        generator.synthesize("perlin", [np.zeros((5, 2))], [0])
    with pytest.raises(UserError, match="float sequences of shape \\(T, 2\\)"):
        generator.synthesize("chain", [np.zeros((5, 3))], [0])
    with pytest.raises(UserError, match="one label per sequence"):
        generator.synthesize("chain", [np.zeros((5, 2))], [99])
