"""Resampling and normalisation against their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from deepnag.data.preprocessing import MinMaxNormalizer, resample


def _path_length(x: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(x, axis=0), axis=1).sum())


@pytest.mark.parametrize("features", [1, 2, 3, 63])
def test_resample_equal_spacing_and_endpoints(features):
    rng = np.random.default_rng(features)
    sequences = [np.cumsum(rng.normal(size=(rng.integers(2, 200), features)), axis=0) for _ in range(30)]
    sequences.append(np.repeat(sequences[0][:2], 3, axis=0))  # repeated points: zero-length segments
    out = resample(sequences, 64)
    assert out.shape == (len(sequences), 64, features)
    for original, resampled in zip(sequences, out):
        length = _path_length(original)
        steps = np.linalg.norm(np.diff(resampled, axis=0), axis=1)
        # every point lies on the original path, so steps can only shortcut corners:
        assert steps.max() <= length / 63 + 1e-4 * length
        np.testing.assert_allclose(resampled[0], original[0])
        np.testing.assert_allclose(resampled[-1], original[-1])


def test_resample_straight_line_is_exactly_equally_spaced():
    line = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [10.0, 0.0]])
    out = resample([line], 10)[0]
    np.testing.assert_allclose(out[:, 0], np.linspace(0, 10, 10), atol=1e-12)


def test_resample_on_polyline_spacing_along_path():
    # Along-path spacing (arc length between consecutive outputs) equals L/(n-1) within 1e-4 of L.
    rng = np.random.default_rng(0)
    poly = np.cumsum(rng.normal(size=(50, 2)), axis=0)
    n = 64
    out = resample([poly], n)[0]
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    cum = np.concatenate(([0], np.cumsum(seg)))
    # Arc-length position of each output point: the segment it lies on (distance ~ 0) and where.
    starts, deltas = poly[:-1], np.diff(poly, axis=0)
    t = np.einsum("pkd,kd->pk", out[:, None] - starts[None], deltas) / seg**2  # (n, segments)
    t = np.clip(t, 0, 1)
    distance = np.linalg.norm(starts[None] + t[..., None] * deltas[None] - out[:, None], axis=-1)
    segment = distance.argmin(axis=1)
    assert distance.min(axis=1).max() < 1e-9  # every output point lies on the path
    positions = cum[segment] + t[np.arange(n), segment] * seg[segment]
    spacing = np.diff(positions)
    assert np.abs(spacing - cum[-1] / (n - 1)).max() <= 1e-4 * cum[-1]


def test_resample_single_point_and_constant_path():
    out = resample([np.array([[3.0, 4.0]]), np.array([[1.0, 1.0]] * 5)], 8)
    np.testing.assert_array_equal(out[0], np.tile([3.0, 4.0], (8, 1)))
    np.testing.assert_array_equal(out[1], np.ones((8, 2)))


def test_normalizer_range_and_round_trip():
    rng = np.random.default_rng(1)
    data = [rng.normal(5, 3, size=(rng.integers(2, 40), 4)) for _ in range(20)]
    data[0][:, 3] = 0.0
    for d in data:
        d[:, 3] = 7.0  # a constant feature
    norm = MinMaxNormalizer.fit(data)
    points = np.concatenate([norm.transform(d) for d in data])
    np.testing.assert_allclose(points[:, :3].min(0), -1)
    np.testing.assert_allclose(points[:, :3].max(0), 1)
    np.testing.assert_array_equal(points[:, 3], 0.0)  # no division by zero
    for d in data:
        np.testing.assert_allclose(norm.inverse(norm.transform(d)), d, atol=1e-6)
