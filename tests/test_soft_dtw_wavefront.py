"""The torch wavefront (the GPU fallback) against the float64 Numba CPU kernel, on the CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepnag.loss.soft_dtw_autograd import sakoe_chiba_band
from deepnag.loss.soft_dtw_cpu import soft_dtw_cpu
from deepnag.loss.soft_dtw_wavefront import soft_dtw_wavefront


def _reference(cost: np.ndarray, lo: np.ndarray, hi: np.ndarray, gamma: float):
    P, N, M = cost.shape
    ref = soft_dtw_cpu(cost, np.zeros((P, N)), np.zeros((P, M)), 1.0, lo, hi, gamma, True, 1, np.zeros((P, N, M)))
    return ref.val, ref.E


@pytest.mark.parametrize("n, m, bandwidth, gamma", [(1, 1, None, 0.1), (1, 5, None, 0.3), (6, 1, None, 1.0),
                                                    (5, 7, None, 0.1), (9, 9, 1.0, 0.5), (12, 7, 0.5, 0.05),
                                                    (30, 41, None, 0.2)])
def test_values_and_expected_alignment_match_the_cpu_kernel(n, m, bandwidth, gamma):
    cost = np.random.default_rng(n * 100 + m).uniform(0, 2, (3, n, m))
    lo, hi = sakoe_chiba_band(n, m, bandwidth)
    ref_val, ref_E = _reference(cost, lo, hi, gamma)
    val, E = soft_dtw_wavefront(torch.from_numpy(cost), lo, hi, gamma, True)
    np.testing.assert_allclose(val.numpy(), ref_val, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(E.numpy(), ref_E, rtol=1e-9, atol=1e-12)


def test_float32_costs_give_float32_results_and_no_gradient_when_not_asked():
    cost = np.random.default_rng(1).uniform(0, 2, (2, 8, 6))
    lo, hi = sakoe_chiba_band(8, 6, None)
    ref_val, _ = _reference(cost, lo, hi, 0.1)
    val, E = soft_dtw_wavefront(torch.from_numpy(cost).float(), lo, hi, 0.1, False)
    assert E is None and val.dtype == torch.float32
    np.testing.assert_allclose(val.numpy(), ref_val, rtol=1e-6)


def test_cells_outside_the_band_get_no_alignment():
    cost = np.random.default_rng(2).uniform(0, 2, (1, 10, 10))
    lo, hi = sakoe_chiba_band(10, 10, 1.0)
    _, E = soft_dtw_wavefront(torch.from_numpy(cost), lo, hi, 0.1, True)
    outside = np.abs(np.arange(10)[:, None] - np.arange(10)[None, :]) > 1
    assert (E.numpy()[0][outside] == 0).all() and (E.numpy()[0][~outside] > 0).all()
