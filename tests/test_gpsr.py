"""deepnag.data.gpsr against a plain reading of the paper's definition (Taranta et al., UIST 2016)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepnag.data import gpsr
from deepnag.data.preprocessing import resample


def _brute_force(source: np.ndarray, uniform: np.ndarray, keys: np.ndarray, n: int, variance: float,
                 removed: int) -> np.ndarray:
    """One variant with plain loops, from the same uniform draws and removal keys."""
    points = [np.asarray(p, dtype=np.float64) for p in source]
    eta = [1.0 + u * math.sqrt(12.0 * variance) for u in uniform]  # intervals of variance σ²
    length = sum(float(np.linalg.norm(points[i] - points[i - 1])) for i in range(1, len(points)))
    # Step 1: walk the path, placing a point at each cumulative interval (scaled to the path length).
    targets, total = [0.0], 0.0
    for e in eta:
        total += e
        targets.append(total)
    targets = [t / total * length for t in targets]
    resampled = []
    for target in targets:
        walked, placed = 0.0, None
        for i in range(1, len(points)):
            segment = float(np.linalg.norm(points[i] - points[i - 1]))
            if segment > 0 and walked + segment >= target - 1e-12:
                t = min(max((target - walked) / segment, 0.0), 1.0)
                placed = points[i - 1] + t * (points[i] - points[i - 1])
                break
            walked += segment
        resampled.append(points[-1] if placed is None else placed)
    # Step 2: remove the points with the `removed` smallest keys.
    drop = sorted(range(len(resampled)), key=lambda i: keys[i])[:removed]
    kept = [p for i, p in enumerate(resampled) if i not in drop]
    # Step 3: unit direction vectors end to end from the origin.
    q = [np.zeros_like(kept[0])]
    for i in range(1, len(kept)):
        step = kept[i] - kept[i - 1]
        norm = float(np.linalg.norm(step))
        q.append(q[-1] + (step / norm if norm > 0 else 0 * step))
    nonzero = sum(1 for i in range(1, len(kept)) if np.linalg.norm(kept[i] - kept[i - 1]) > 0)
    scale = length / nonzero if nonzero else 0.0
    return np.stack([points[0] + scale * p for p in q])


@pytest.mark.parametrize("features", [2, 3, 63])
@pytest.mark.parametrize(("n", "variance", "removed"), [(32, 0.25, 2), (8, 1.0, 0), (5, 0.05, 3)])
def test_variants_match_the_definition_point_by_point(features, n, variance, removed):
    data = np.random.default_rng(features)
    sources = [np.cumsum(data.normal(size=(int(t), features)), axis=0) for t in data.integers(2, 40, size=6)]
    sources[2][3:5] = sources[2][2]  # repeated points: zero-length segments
    out = gpsr.variants(sources, np.random.default_rng(11), n=n, variance=variance, removed=removed)
    assert out.shape == (6, n, features)
    draws = np.random.default_rng(11)  # the same stream: intervals first, then removal keys
    uniform = draws.random((6, n + removed - 1))
    keys = draws.random((6, n + removed))
    for i, source in enumerate(sources):
        expected = _brute_force(source, uniform[i], keys[i], n, variance, removed)
        np.testing.assert_allclose(out[i], expected, rtol=1e-9, atol=1e-9)


def test_the_intervals_have_the_papers_distribution():
    eta = gpsr.intervals(np.random.default_rng(0), 4000, n=32, variance=0.25, removed=2)
    assert eta.shape == (4000, 33)
    assert eta.min() >= 1.0 and eta.max() <= 1.0 + math.sqrt(3.0)
    assert abs(eta.mean() - (1.0 + math.sqrt(3.0) / 2)) < 0.005  # U(1, 1 + √(12σ²))
    assert abs(eta.var() - 0.25) < 0.005  # variance σ²


def test_a_variant_keeps_the_start_point_count_and_path_length():
    data = np.random.default_rng(3)
    sources = [np.cumsum(data.normal(size=(50, 2)), axis=0) + 100.0 for _ in range(4)]
    out = gpsr.variants(sources, np.random.default_rng(1))
    assert out.shape == (4, gpsr.POINTS, 2)
    np.testing.assert_allclose(out[:, 0], np.stack([s[0] for s in sources]))
    np.testing.assert_allclose(gpsr.path_lengths(list(out)), gpsr.path_lengths(sources))
    steps = np.linalg.norm(np.diff(out, axis=1), axis=2)
    np.testing.assert_allclose(steps, steps[:, :1] * np.ones_like(steps))  # equal steps: lengths come from directions
    assert not np.allclose(out, resample(sources, gpsr.POINTS))  # a variant, not a copy


def test_without_randomness_a_straight_stroke_comes_back_uniformly_resampled():
    line = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 6.0], [3.5, 7.0]])
    out = gpsr.variants([line], np.random.default_rng(0), n=9, variance=0.0, removed=0)
    np.testing.assert_allclose(out[0], resample([line], 9)[0], atol=1e-12)


def test_per_class_spreads_the_variants_over_each_class_round_robin():
    sources = [np.array([[0.0, 0.0], [float(i + 1), 0.0]]) for i in range(5)]  # sample i has length i + 1
    labels = np.array([1, 0, 1, 0, 1])
    out, out_labels = gpsr.per_class(sources, labels, 4, np.random.default_rng(0), n=4, variance=0.0, removed=0)
    assert out_labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    lengths = gpsr.path_lengths(list(out)).round(9).tolist()
    assert lengths == [2.0, 4.0, 2.0, 4.0, 1.0, 3.0, 5.0, 1.0]  # class 0: samples 1, 3, 1, 3; class 1: 0, 2, 4, 0
    with pytest.raises(ValueError, match="have no real sample"):
        gpsr.per_class(sources, labels, 2, np.random.default_rng(0), num_classes=3)


def test_per_sample_gives_k_variants_of_every_sample_in_order():
    sources = [np.array([[0.0, 0.0], [float(i + 1), 1.0]]) for i in range(3)]
    out, labels = gpsr.per_sample(sources, np.array([2, 0, 1]), 3, np.random.default_rng(0))
    assert out.shape == (9, gpsr.POINTS, 2) and labels.tolist() == [2, 2, 2, 0, 0, 0, 1, 1, 1]
    np.testing.assert_allclose(out[3:6, 0], np.zeros((3, 2)))
    np.testing.assert_allclose(gpsr.path_lengths(list(out[6:])), np.full(3, math.hypot(3.0, 1.0)))


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="GPSR needs n >= 2"):
        gpsr.variants([np.zeros((3, 2))], np.random.default_rng(0), n=1)
    with pytest.raises(ValueError, match="at least one source"):
        gpsr.variants([], np.random.default_rng(0))
