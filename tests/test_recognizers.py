"""Recognisers: exact small cases, Protractor's invariances, DTW against a brute-force loop, real-data accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from deepnag.data import load_raw
from deepnag.recognition.recognizers import (
    JackknifeDTW,
    Protractor,
    accuracy,
    direction_vectors,
    dtw_distances,
    recognizer_for,
)


def _random_walks(rng: np.random.Generator, count: int, length: int, features: int) -> list[np.ndarray]:
    return [np.cumsum(rng.normal(size=(length, features)), axis=0) for _ in range(count)]


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    return points @ np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])


# ----------------------------------------------------------------------------------------------------------------------
# Small exact cases
# ----------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("features", [2, 3, 63])
def test_every_template_is_recognised_as_its_own_label(features):
    rng = np.random.default_rng(0)
    templates = _random_walks(rng, 12, 40, features)
    labels = np.array([7, 3, 5, 1, 0, 2, 4, 6, 8, 9, 10, 11])
    recognizer = recognizer_for(features).fit(templates, labels)
    assert np.array_equal(recognizer.predict(templates), labels)


def test_recognizer_for_picks_protractor_for_2d_and_jackknife_otherwise():
    assert isinstance(recognizer_for(2), Protractor)
    assert isinstance(recognizer_for(3), JackknifeDTW)
    assert isinstance(recognizer_for(63), JackknifeDTW)


def test_samples_of_different_lengths_are_accepted_and_labels_keep_their_type():
    rng = np.random.default_rng(1)
    templates = [_random_walks(rng, 1, length, 3)[0] for length in (10, 50, 120)]
    labels = np.array(["a", "b", "c"])
    predicted = JackknifeDTW().fit(templates, labels).predict([templates[2][::2], templates[0]])
    assert list(predicted) == ["c", "a"]


def test_predict_before_fit_and_mismatched_labels_are_errors():
    with pytest.raises(NotFittedError, match="^call fit before predict$"):
        Protractor().predict([np.zeros((5, 2))])
    with pytest.raises(ValueError):
        JackknifeDTW().fit([np.zeros((5, 3))], np.array([0, 1]))
    with pytest.raises(ValueError):
        Protractor().fit([np.zeros((5, 3))], np.array([0]))  # 3 features


# ----------------------------------------------------------------------------------------------------------------------
# Protractor
# ----------------------------------------------------------------------------------------------------------------------
def test_protractor_ignores_translation_and_uniform_scale():
    rng = np.random.default_rng(2)
    gesture = _random_walks(rng, 1, 50, 2)[0]
    p = Protractor()
    d = p.distances(p.features([gesture * 3.7 + np.array([100.0, -40.0])]), p.features([gesture]))
    assert d[0, 0] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("degrees", [30.0, 90.0, 135.0, -170.0])
def test_protractor_invariant_variant_matches_a_rotated_gesture(degrees):
    rng = np.random.default_rng(3)
    gesture = _random_walks(rng, 1, 50, 2)[0]
    p = Protractor()
    d = p.distances(p.features([_rotate(gesture, degrees)]), p.features([gesture]))
    assert d[0, 0] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("degrees", [135.0, 180.0])
def test_protractor_orientation_sensitive_variant_tells_orientations_apart(degrees):
    """A gesture turned over is another class for the sensitive variant; the invariant one cannot tell them apart.

    (A turn of exactly 90° is the edge of Li's closed form, θ = atan(b/a) within ±90°, so it is not tested.)
    """
    rng = np.random.default_rng(4)
    gesture = _random_walks(rng, 1, 50, 2)[0]
    turned = _rotate(gesture, degrees)
    sensitive = Protractor(orientation_sensitive=True)
    d = sensitive.distances(sensitive.features([turned]), sensitive.features([gesture, turned]))
    assert d[0, 1] == pytest.approx(0.0, abs=1e-6)
    assert d[0, 0] > 0.3
    invariant = Protractor()
    d = invariant.distances(invariant.features([turned]), invariant.features([gesture, turned]))
    assert d[0, 0] == pytest.approx(0.0, abs=1e-6) and d[0, 1] == pytest.approx(0.0, abs=1e-6)
    # A small turn that stays within one 45° sector is still absorbed by the sensitive variant.
    d = sensitive.distances(sensitive.features([_rotate(gesture, 10.0)]), sensitive.features([gesture]))
    assert d[0, 0] < 0.05


def test_protractor_distance_is_the_angle_between_unit_vectors_at_the_best_rotation():
    """Against a brute-force search over rotations within ±90° (Li's θ = atan(b/a) when a > 0, as here)."""
    rng = np.random.default_rng(5)
    a, b = _random_walks(rng, 2, 30, 2)
    p = Protractor()
    fa, fb = p.features([a]), p.features([b])
    angles = np.linspace(-math.pi / 2, math.pi / 2, 20001)
    similarity = (fa[0].conj()[None, :] * (fb[0][None, :] * np.exp(1j * angles)[:, None])).real.sum(axis=1)
    assert p.distances(fb, fa)[0, 0] == pytest.approx(float(np.arccos(similarity.max())), abs=1e-4)


# ----------------------------------------------------------------------------------------------------------------------
# DTW
# ----------------------------------------------------------------------------------------------------------------------
def _dtw_brute_force(q: np.ndarray, t: np.ndarray, radius: int) -> float:
    n = len(q)
    r = np.full((n + 1, n + 1), np.inf)
    r[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, n + 1):
            if abs(i - j) <= radius:
                r[i, j] = (1.0 - q[i - 1] @ t[j - 1]) + min(r[i - 1, j - 1], r[i - 1, j], r[i, j - 1])
    return float(r[n, n])


@pytest.mark.parametrize("radius", [0, 1, 2, 7])
def test_dtw_matches_a_brute_force_loop(radius):
    rng = np.random.default_rng(6)
    q = direction_vectors(rng.normal(size=(3, 8, 4)))
    t = direction_vectors(rng.normal(size=(5, 8, 4)))
    expected = np.array([[_dtw_brute_force(a, b, radius) for b in t] for a in q])
    assert np.allclose(dtw_distances(q, t, radius), expected)


def test_dtw_radius_zero_is_the_sum_of_aligned_costs_and_the_band_only_lowers_it():
    rng = np.random.default_rng(7)
    q = direction_vectors(rng.normal(size=(4, 10, 3)))
    t = direction_vectors(rng.normal(size=(6, 10, 3)))
    diagonal = (1.0 - np.einsum("qid,mid->qmi", q, t)).sum(axis=2)
    assert np.allclose(dtw_distances(q, t, 0), diagonal)
    assert (dtw_distances(q, t, 2) <= diagonal + 1e-12).all()
    assert np.allclose(np.diag(dtw_distances(q, q, 2)), 0.0)


def test_jackknife_defaults_follow_the_reference_inner_product_settings():
    jk = JackknifeDTW()
    assert (jk.n, jk.radius, jk.band, jk.correction_factors) == (16, None, 2, True)


# ----------------------------------------------------------------------------------------------------------------------
# Real data: unseen subjects
# ----------------------------------------------------------------------------------------------------------------------
def _subject_split_accuracy(raw, recognizer) -> float:
    subjects = np.array(raw.subjects)
    first = np.isin(subjects, np.unique(subjects)[::2])
    train, test = np.flatnonzero(first), np.flatnonzero(~first)
    recognizer.fit([raw.sequences[i] for i in train], raw.labels[train])
    predicted = recognizer.predict([raw.sequences[i] for i in test])
    return float(np.mean(predicted == raw.labels[test]))


def test_protractor_recognises_unseen_writers_of_dollar_gds(shared_data):
    raw = load_raw("dollar-gds", shared_data)
    assert len(raw.sequences) == 1600
    assert _subject_split_accuracy(raw, Protractor()) >= 0.95
    assert _subject_split_accuracy(raw, Protractor(orientation_sensitive=True)) >= 0.95
    assert _subject_split_accuracy(raw, JackknifeDTW()) >= 0.95  # the any-D recogniser works on 2D as well


def test_jackknife_recognises_unseen_subjects_of_jk2017(shared_data):
    raw = load_raw("jk2017-kinect", shared_data)
    assert len(raw.sequences) == 560
    assert _subject_split_accuracy(raw, JackknifeDTW()) >= 0.95


def test_accuracy_is_the_fraction_of_correct_labels():
    rng = np.random.default_rng(8)
    templates = _random_walks(rng, 4, 30, 3)
    labels = np.array([0, 1, 2, 3])
    assert accuracy(templates, labels, templates, labels, 3) == 1.0
    assert accuracy(templates, labels, templates, np.array([0, 1, 0, 0]), 3) == 0.5
