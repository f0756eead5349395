"""deepnag.generate.vetting: generated samples kept only where the seen samples' 1-NN puts them clearly in their class."""

from __future__ import annotations

import numpy as np
import pytest

from deepnag.data.preprocessing import resample
from deepnag.generate import vetting
from deepnag.recognition.recognizers import recognizer_for
from tests.test_augmentation import _strokes


def _brute_margins(samples, labels, seen, seen_labels, num_classes) -> np.ndarray:
    """The margin of each sample from its distances to every seen sample, one pair at a time (float64)."""
    recognizer = recognizer_for(int(seen[0].shape[1]))
    out = []
    for sample, label in zip(samples, labels):
        own, other = np.inf, np.inf
        for template, template_label in zip(seen, seen_labels):
            d = float(recognizer.distance_matrix([sample], [template])[0, 0])
            if template_label == label:
                own = min(own, d)
            else:
                other = min(other, d)
        out.append(np.inf if not np.isfinite(own) or other == 0 else own / other)
    return np.array(out)


@pytest.mark.parametrize("dims", [2, 3])
def test_margins_equal_own_class_over_other_class_nearest_distance(dims):
    rng = np.random.default_rng(0)
    seen_labels = np.array([2, 0, 2, 1, 0, 2])  # unsorted, and class 3 has no seen sample
    labels = np.array([0, 1, 2, 3, 0, 2, 1])
    seen, samples = _strokes(rng, seen_labels, 0.8), _strokes(rng, labels, 0.8)
    if dims == 3:  # Jackknife-DTW's side: a third feature
        seen = [np.concatenate([s, rng.normal(size=(len(s), 1))], axis=1) for s in seen]
        samples = [np.concatenate([s, rng.normal(size=(len(s), 1))], axis=1) for s in samples]
    found = vetting.margins(samples, labels, seen, seen_labels, 4)
    expected = _brute_margins(samples, labels, seen, seen_labels, 4)
    np.testing.assert_allclose(found, expected, rtol=1e-12)
    assert np.isinf(found[3]) and np.isfinite(found[[0, 1, 2, 4, 5, 6]]).all()
    assert ((found < 1) == (recognizer_for(dims).fit(seen, seen_labels).predict(samples) == labels))[:3].all()


def test_vetted_keeps_the_first_k_below_the_margin_of_each_class_in_the_order_drawn(monkeypatch):
    rng = np.random.default_rng(1)
    seen_labels = np.repeat(np.arange(3), 3)
    seen = _strokes(rng, seen_labels, 0.3)
    k, pool = 3, 4
    drawn_labels = np.repeat(np.arange(3), pool * k)
    wrong = drawn_labels.copy()
    wrong[np.arange(len(wrong)) % 3 == 0] += 1  # every third sample is drawn for the next class's shape
    wrong %= 3
    drawn = np.stack([resample([s], 20)[0] for s in _strokes(rng, wrong, 0.3)]).astype(np.float32)
    asked = []

    def generate(state, generator, per_class, seed):
        asked.append((per_class, seed))
        return drawn, drawn_labels

    monkeypatch.setattr(vetting, "generate_per_class", generate)
    state = {"class_names": ["a", "b", "c"]}
    samples, labels = vetting.vetted_per_class(state, None, k, 7, seen, seen_labels, margin=0.8, pool=pool)
    assert asked == [(pool * k, 7)]
    margin = _brute_margins(list(drawn), drawn_labels, seen, seen_labels, 3)
    expected = np.concatenate([np.flatnonzero((drawn_labels == c) & (margin < 0.8))[:k] for c in range(3)])
    assert 0 < len(expected) and (margin[np.arange(len(margin)) % 3 == 0] >= 0.8).all()  # the off-class ones go
    np.testing.assert_array_equal(samples, drawn[expected])
    np.testing.assert_array_equal(labels, drawn_labels[expected])
    short, _ = vetting.vetted_per_class(state, None, k, 7, seen, seen_labels, margin=1e-9, pool=pool)
    assert len(short) == 0  # nothing that close: every class comes back empty


def test_filled_takes_a_class_vetted_samples_then_the_first_of_the_fallback():
    k, classes = 3, 3
    vetted = np.arange(4 * 5 * 2, dtype=np.float32).reshape(4, 5, 2)
    vetted_labels = np.array([0, 0, 0, 2])  # class 0 full, class 1 empty, class 2 short by two
    fallback = -np.arange(classes * k * 9 * 2, dtype=np.float32).reshape(classes * k, 9, 2) - 1
    samples, labels, short = vetting.filled((vetted, vetted_labels), (fallback, np.repeat(np.arange(classes), k)), k,
                                            classes)
    assert short.tolist() == [0, 3, 2]
    spare = resample(list(fallback), 5)
    assert samples.shape == (classes * k, 5, 2) and samples.dtype == np.float32
    np.testing.assert_array_equal(labels, np.repeat(np.arange(classes), k))
    np.testing.assert_array_equal(samples[:3], vetted[:3])
    np.testing.assert_allclose(samples[3:6], spare[3:6], rtol=1e-6)  # class 1: its first three fallbacks
    np.testing.assert_array_equal(samples[6], vetted[3])
    np.testing.assert_allclose(samples[7:9], spare[6:8], rtol=1e-6)  # class 2: its first two fallbacks
    nothing = vetting.filled((vetted[:0], vetted_labels[:0]), (fallback, np.repeat(np.arange(classes), k)), k, classes)
    np.testing.assert_array_equal(nothing[0], fallback)  # none vetted: the fallback as it is
    assert nothing[2].tolist() == [k] * classes
