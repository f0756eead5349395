"""Chained augmentation: each step's defining property, the chain's order, and what --synthesizer=chain writes."""

from __future__ import annotations

import numpy as np
import pytest

import deepnag
import main
from deepnag.data import chain, jk2017
from deepnag.errors import UserError


def _pairwise(points: np.ndarray) -> np.ndarray:
    return np.linalg.norm(points[:, None] - points[None], axis=-1)


def test_a_2d_rotation_keeps_lengths_and_angles_and_turns_by_its_angle():
    rng = np.random.default_rng(0)
    strokes = rng.normal(size=(3, 10, 2))
    turned = chain.rotate(strokes, np.array([90.0, -30.0, 0.0]))
    for a, b in zip(strokes, turned):
        np.testing.assert_allclose(_pairwise(a), _pairwise(b), atol=1e-12)
    centred = strokes[0] - strokes[0].mean(0)
    np.testing.assert_allclose(turned[0] - turned[0].mean(0), np.stack([-centred[:, 1], centred[:, 0]], 1), atol=1e-12)
    np.testing.assert_allclose(turned[2], strokes[2])


def test_a_skeleton_turns_rigidly_about_the_vertical_axis():
    frames = np.random.default_rng(1).normal(size=(2, 5, 63))
    turned = chain.rotate(frames, np.array([40.0, 170.0]))
    joints, after = frames.reshape(2, 5, 21, 3), turned.reshape(2, 5, 21, 3)
    np.testing.assert_allclose(after[..., 1], joints[..., 1], atol=1e-12)  # heights stay
    for s in range(2):
        for t in range(5):  # every frame's joint distances (its bones) stay
            np.testing.assert_allclose(_pairwise(after[s, t]), _pairwise(joints[s, t]), atol=1e-12)
    assert not np.allclose(after[..., 0], joints[..., 0])


def test_an_isotropic_scale_keeps_angles_and_scales_distances():
    strokes = np.random.default_rng(2).normal(size=(1, 8, 2))
    scaled = chain.scale(strokes, np.array([1.5]))
    np.testing.assert_allclose(_pairwise(scaled[0]), 1.5 * _pairwise(strokes[0]), atol=1e-12)
    d0, d1 = np.diff(strokes[0], axis=0), np.diff(scaled[0], axis=0)
    cos0 = (d0[:-1] * d0[1:]).sum(1) / np.linalg.norm(d0[:-1], axis=1) / np.linalg.norm(d0[1:], axis=1)
    cos1 = (d1[:-1] * d1[1:]).sum(1) / np.linalg.norm(d1[:-1], axis=1) / np.linalg.norm(d1[1:], axis=1)
    np.testing.assert_allclose(cos0, cos1, atol=1e-12)
    np.testing.assert_allclose(scaled[0].mean(0), strokes[0].mean(0), atol=1e-12)


def test_a_stretch_scales_each_axis_by_its_own_factor_about_the_centroid():
    strokes = np.random.default_rng(4).normal(size=(2, 8, 2))
    stretched = chain.stretch(strokes, np.array([[2.0, 0.5], [1.2, 1.2]]))
    c0 = strokes[0] - strokes[0].mean(0)
    np.testing.assert_allclose(stretched[0] - stretched[0].mean(0), c0 * [2.0, 0.5], atol=1e-12)
    np.testing.assert_allclose(stretched[0].mean(0), strokes[0].mean(0), atol=1e-12)
    np.testing.assert_allclose(stretched[1:], chain.scale(strokes[1:], np.array([1.2])), atol=1e-12)  # equal: a scale
    frames = np.random.default_rng(5).normal(size=(1, 4, 63))
    joints = frames.reshape(1, 4, 21, 3)
    after = chain.stretch(frames, np.array([[1.0, 1.5, 1.0]])).reshape(1, 4, 21, 3)
    np.testing.assert_allclose(after[..., [0, 2]], joints[..., [0, 2]], atol=1e-12)  # every joint of every frame alike
    height = joints[..., 1] - joints[..., 1].mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(after[..., 1] - after[..., 1].mean(axis=(1, 2), keepdims=True), 1.5 * height, atol=1e-12)


def test_the_chain_applies_its_steps_in_order_with_fresh_draws():
    from deepnag.data import gpsr

    sources = list(np.random.default_rng(3).normal(size=(4, 20, 2)).cumsum(axis=1))
    out = chain.variants(sources, np.random.default_rng(7), steps=("gpsr", "rotate", "scale"), degrees=20, spread=0.2)
    rng = np.random.default_rng(7)
    expected = gpsr.variants(sources, rng)
    expected = chain.rotate(expected, rng.uniform(-20, 20, 4))
    expected = chain.scale(expected, rng.uniform(0.8, 1.2, 4))
    np.testing.assert_allclose(out, expected)
    out = chain.variants(sources, np.random.default_rng(8), steps=("gpsr", "stretch", "rotate"), degrees=20,
                         stretch_spread=0.3)
    rng = np.random.default_rng(8)
    expected = chain.stretch(gpsr.variants(sources, rng), rng.uniform(0.7, 1.3, (4, 2)))
    np.testing.assert_allclose(out, chain.rotate(expected, rng.uniform(-20, 20, 4)))
    with pytest.raises(ValueError, match="a chain is 'gpsr' followed by"):
        chain.variants(sources, rng, steps=("rotate", "gpsr"))


def test_chain_writes_npz_and_native_files_that_the_loader_reads_back(tmp_path, shared_data):
    out = tmp_path / "chain"
    assert main.main(["--dataset=jk2017-leap", "--classes=love,scissors", f"--datapath={shared_data}",
                      "--subjects=Sub_U300,Sub_U400", "--synthesizer=chain", "--num-per-sample=2", f"--output={out}",
                      "--format=native"]) == 0
    archive = np.load(tmp_path / "chain.npz", allow_pickle=False)
    assert archive["samples"].shape == (16, 32, 63) and archive["class_names"].tolist() == ["love", "scissors"]
    loaded = jk2017.LEAP.load_folder(out / jk2017.LEAP.FOLDER)
    assert len(loaded.sequences) == 16
    gap = np.abs(np.stack(loaded.sequences)[:, None] - archive["samples"][None]).max(axis=(2, 3))
    assert (gap.min(axis=1) < 1e-3).all()


def test_chain_flags_are_checked_like_gpsrs(capsys):
    assert main.main(["--synthesizer=chain", "--num-per-sample=2"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: --synthesizer=chain needs --output=PATH")


def test_the_api_augments_without_a_model():
    strokes = list(np.random.default_rng(4).normal(size=(3, 15, 2)).cumsum(axis=1))
    samples, labels = deepnag.augment(strokes, [0, 1, 1], k=2, seed=1)
    assert samples.shape == (6, 32, 2) and samples.dtype == np.float32 and labels.tolist() == [0, 0, 1, 1, 1, 1]
    again, _ = deepnag.augment(strokes, [0, 1, 1], k=2, seed=1)
    np.testing.assert_array_equal(samples, again)
    with pytest.raises(UserError, match="augment's method must be one of"):
        deepnag.augment(strokes, [0, 1, 1], method="flip")
