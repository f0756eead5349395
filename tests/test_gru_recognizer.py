"""deepnag.recognition.gru_recognizer: the learned recogniser learns, repeats itself, and refuses bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepnag.recognition.gru_recognizer import GRURecognizer, Network, standardise

STEPS = 120
"""Enough optimiser steps for the toy sets below (the default is for real data)."""


def _toy(rng: np.random.Generator, labels: np.ndarray, features: int = 2) -> list[np.ndarray]:
    """Class 0: a straight line; class 1: a circle; class 2: a zig-zag; lengths, positions and sizes vary."""
    out = []
    for c in labels:
        n = int(rng.integers(10, 30))
        t = np.linspace(0.0, 1.0, n)
        if c == 0:
            xy = np.stack([t, 0.2 * t], axis=1)
        elif c == 1:
            xy = np.stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)], axis=1)
        else:
            xy = np.stack([t, 0.3 * (np.floor(6 * t) % 2)], axis=1)
        xy = xy * rng.uniform(0.5, 3.0) + rng.normal(0.0, 5.0, 2) + rng.normal(0.0, 0.01, xy.shape)
        out.append(np.tile(xy, (1, features // 2)) if features > 2 else xy)
    return out


def test_it_learns_a_separable_toy_set_for_writers_drawing_anywhere_at_any_size():
    rng = np.random.default_rng(0)
    train_labels, test_labels = np.repeat(np.arange(3), 10), np.repeat(np.arange(3), 20)
    train, test = _toy(rng, train_labels), _toy(rng, test_labels)
    predicted = GRURecognizer(random_state=0, steps=STEPS).fit(train, train_labels).predict(test)
    assert np.mean(predicted == test_labels) >= 0.95
    untrained = GRURecognizer(random_state=0, steps=1).fit(train, train_labels).predict(test)
    assert np.mean(untrained == test_labels) < 0.8  # what the steps bought


def test_labels_come_back_as_given_and_skeleton_widths_work():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.array([7, 3]), 8)
    train = _toy(rng, np.repeat(np.arange(2), 8), features=6)  # two "joints" of xyz: 6 features
    predicted = GRURecognizer(random_state=0, steps=STEPS).fit(train, labels).predict(train)
    assert set(predicted) <= {3, 7} and np.mean(predicted == labels) >= 0.9
    assert GRURecognizer(random_state=0, steps=1).fit(train, labels).predict([]).shape == (0,)


def test_the_same_seed_gives_the_same_network_and_another_seed_another():
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(3), 6)
    train, test = _toy(rng, labels), _toy(rng, np.repeat(np.arange(3), 10))
    threads = torch.get_num_threads()

    def logits(seed: int) -> np.ndarray:
        model = GRURecognizer(random_state=seed, steps=30).fit(train, labels)
        with torch.no_grad():
            return model.network_(torch.from_numpy(standardise(test))).numpy()

    assert np.array_equal(logits(4), logits(4))
    assert not np.allclose(logits(4), logits(5))
    assert torch.get_num_threads() == threads  # the fit's one thread is the caller's setting again afterwards


def test_standardise_centres_and_scales_every_sample_per_point():
    rng = np.random.default_rng(3)
    samples = [rng.normal(10.0, 4.0, (n, 6)) for n in (5, 9, 30)]
    x = standardise(samples, points=8)
    assert x.shape == (3, 8, 6) and x.dtype == np.float32
    joints = x.reshape(3, -1, 3).astype(np.float64)
    assert np.allclose(joints.mean(axis=1), 0.0, atol=1e-5)
    assert np.allclose(np.sqrt((joints ** 2).sum(axis=2).mean(axis=1)), 1.0, atol=1e-5)
    moved = standardise([2.5 * s + 7.0 for s in samples], points=8)  # where and how large: gone
    assert np.allclose(moved, x, atol=1e-5)
    assert np.array_equal(standardise([np.zeros((4, 2))], points=4), np.zeros((1, 4, 2), np.float32))


def test_standardise_keeps_a_pen_samples_strokes_apart_and_gives_their_parity():
    from deepnag.data import mmg
    h = mmg.sample_of([np.array([[0.0, 0.0], [0.0, 100.0]]), np.array([[60.0, 0.0], [60.0, 100.0]]),
                       np.array([[0.0, 50.0], [60.0, 50.0]])])  # an H in three strokes
    x = standardise([h, 3.0 * h * [1, 1, 0] + [5, 9, 0] + h * [0, 0, 1]], points=12).astype(np.float64)
    assert x.shape == (2, 12, 3)
    np.testing.assert_allclose(x[1], x[0], atol=1e-5)  # where and how large: gone; the pen state untouched by both
    np.testing.assert_allclose(x[0, :, :2].mean(axis=0), 0.0, atol=1e-6)  # x, y centred as a 2D path, not with the pen
    np.testing.assert_allclose(np.sqrt((x[0, :, :2] ** 2).sum(axis=1).mean()), 1.0, atol=1e-6)
    parity = x[0, :, 2]
    assert set(np.unique(parity)) == {-0.5, 0.5} and parity[0] == 0.5
    assert (np.diff(np.sign(parity)) != 0).sum() == 2  # three strokes: two flips, none of the points on the jumps
    on_h = np.isclose(x[0, :, 0], x[0, 0, 0]) | np.isclose(x[0, :, 0], x[0].max(axis=0)[0]) | np.isclose(x[0, :, 1], x[0, -1, 1])
    assert on_h.all()


def test_the_network_pools_with_attention_over_every_step():
    torch.manual_seed(0)
    network = Network(num_features=2, num_classes=4).eval()
    x = torch.randn(3, 10, 2)
    assert network(x).shape == (3, 4)
    changed = x.clone()
    changed[:, 2] += 1.0  # an early step reaches the output through the GRUs and the attention
    assert not torch.allclose(network(x), network(changed))


@pytest.mark.parametrize(("call", "message"), [
    (lambda m, s: m.fit(s, np.zeros(len(s) - 1)), r"^6 samples but 5 labels$"),
    (lambda m, s: m.fit([], []), r"^a recogniser needs at least one training sample$"),
    (lambda m, s: m.fit([s[0], np.zeros((5, 3))], [0, 1]), r"^samples differ in their number of features: \[2, 3\]$"),
    (lambda m, s: m.fit([s[0], np.full((5, 2), np.nan)], [0, 1]), r"^samples hold NaN or infinite values$"),
    (lambda m, s: m.predict(s), r"^call fit before predict$"),
])
def test_bad_input_is_refused_with_one_line(call, message):
    samples = _toy(np.random.default_rng(4), np.repeat(np.arange(2), 3))
    with pytest.raises((ValueError, RuntimeError), match=message):
        call(GRURecognizer(random_state=0, steps=1), samples)


def test_a_fitted_recogniser_refuses_samples_of_another_width():
    rng = np.random.default_rng(5)
    labels = np.repeat(np.arange(2), 3)
    model = GRURecognizer(random_state=0, steps=1).fit(_toy(rng, labels), labels)
    with pytest.raises(ValueError, match=r"^the recogniser was fitted on 2 features; got 6$"):
        model.predict(_toy(rng, labels, features=6))


@pytest.mark.parametrize("options", [{"steps": 0}, {"points": 1}, {"hidden": 0}, {"threads": 0}])
def test_bad_settings_are_refused_when_fitting(options):
    """scikit-learn's convention: the constructor stores its parameters as given; fit checks them."""
    labels = np.repeat(np.arange(2), 3)
    model = GRURecognizer(**options)
    with pytest.raises(ValueError, match=r"^GRURecognizer needs steps >= 1, points >= 2, hidden >= 1, threads >= 1"):
        model.fit(_toy(np.random.default_rng(6), labels), labels)
