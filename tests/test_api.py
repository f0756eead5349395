"""The Python API: `deepnag.load_generator(path).sample(...)` on the shipped models and on damaged files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import deepnag
from deepnag import checkpoint
from deepnag.errors import UserError
from deepnag.generate.sampling import generate_per_class
from deepnag.generate.sampling import load_generator as network_from

ROOT = Path(__file__).resolve().parent.parent
DOLLAR = ROOT / "pretrained_models" / "DeepNAG" / "dollar-gds" / "generator.pt"
KINECT = ROOT / "pretrained_models" / "DeepNAG" / "jk2017-kinect" / "generator.pt"


@pytest.fixture(scope="module")
def dollar() -> deepnag.GestureGenerator:
    return deepnag.load_generator(DOLLAR)


def test_the_generator_describes_itself(dollar):
    assert dollar.num_features == 2 and dollar.seq_len == 64 and dollar.dataset == "dollar-gds"
    assert len(dollar.class_names) == 16 and "star" in dollar.class_names
    assert "16 classes" in repr(dollar)


def test_one_class_name_gives_n_gestures_in_the_data_units(dollar):
    stars = dollar.sample("star", n=5, seed=3)
    assert stars.shape == (5, 64, 2) and stars.dtype == np.float32
    # Data units are $1-GDS pixels (tens to hundreds), not the normalised [-1, 1] of training.
    assert np.abs(stars).max() > 10
    assert np.isfinite(stars).all()


def test_samples_equal_what_the_command_line_writes(dollar):
    """The API and --generate go through the same normaliser: the same seed gives the same numbers."""
    state = checkpoint.load(DOLLAR)
    samples, labels = generate_per_class(state, network_from(state, str(DOLLAR)), 3, seed=11)
    api = dollar.sample(None, n=3, seed=11)
    assert api.shape == (16, 3, 64, 2)
    np.testing.assert_allclose(api.reshape(-1, 64, 2), samples, rtol=1e-6)
    assert labels.tolist() == np.repeat(np.arange(16), 3).tolist()


def test_a_seed_reproduces_and_another_seed_differs(dollar):
    a = dollar.sample(["star", "x"], n=4, seed=7)
    assert a.shape == (2, 4, 64, 2)
    np.testing.assert_array_equal(a, dollar.sample(["star", "x"], n=4, seed=7))
    assert not np.allclose(a, dollar.sample(["star", "x"], n=4, seed=8))


def test_the_order_of_class_names_is_kept(dollar):
    """Row i of the result is class `classes[i]`: a star is closer to other stars than to crosses."""
    both = dollar.sample(["x", "star"], n=8, seed=0)
    stars = dollar.sample("star", n=8, seed=1)
    to_stars = [np.abs(both[i][:, None] - stars[None]).mean() for i in (0, 1)]
    assert to_stars[1] < to_stars[0]


def test_skeletons_have_63_features():
    kinect = deepnag.load_generator(KINECT)
    frames = kinect.sample(kinect.class_names[0], n=2, seed=0)
    assert frames.shape == (2, kinect.seq_len, 63) and kinect.num_features == 63


@pytest.mark.parametrize("classes, message", [
    ("nope", "has no class 'nope'; its classes are arrow, caret"),
    (["star", "moon"], "has no class 'moon'"),
    ([], "needs at least one class name"),
])
def test_bad_class_names_are_one_line_errors(dollar, classes, message):
    with pytest.raises(UserError, match=message) as caught:
        dollar.sample(classes)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "n >= 1"), ({"n": 2.5}, "n >= 1"), ({"seed": -1}, "seed >= 0"), ({"n": True}, "n >= 1"),
])
def test_bad_counts_and_seeds_are_one_line_errors(dollar, kwargs, message):
    with pytest.raises(UserError, match=message):
        dollar.sample("star", **kwargs)


def test_loading_has_the_command_lines_safety(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint")
    with pytest.raises(checkpoint.CheckpointError, match=f"{text} is damaged, truncated or not a PyTorch checkpoint"):
        deepnag.load_generator(text)
    with pytest.raises(checkpoint.CheckpointError, match="does not exist"):
        deepnag.load_generator(tmp_path / "missing.pt")


def test_the_soft_dtw_module_is_public():
    import torch

    from deepnag.loss import SoftDTW, soft_dtw

    x = torch.rand(3, 7, 2, dtype=torch.float64)
    y = torch.rand(3, 5, 2, dtype=torch.float64)
    cost = ((x[:, :, None] - y[:, None]) ** 2).sum(-1)
    torch.testing.assert_close(SoftDTW(gamma=0.1)(x, y), soft_dtw(cost, 0.1))


def test_import_deepnag_does_not_import_torch():
    """The entry points set OpenMP's spin count before torch loads; a bare `import deepnag` must leave it unloaded."""
    import subprocess
    import sys

    code = "import sys, deepnag; print('torch' in sys.modules, deepnag.__version__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", deepnag.__version__]
