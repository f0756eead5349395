"""Soft-DTW: values and gradients against a brute-force float64 NumPy programme, the band, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from deepnag.errors import UserError
from deepnag.loss import soft_dtw_autograd as sdtw_module
from deepnag.loss.costs import cosine_cost, squared_euclidean_cost
from deepnag.loss.soft_dtw_autograd import (
    SoftDTW,
    sakoe_chiba_band,
    sakoe_chiba_mask,
    soft_dtw,
    soft_dtw_divergence,
    soft_dtw_pairs,
)
from deepnag.loss.soft_dtw_cpu import LANES


# ----------------------------------------------------------------------------------------------------------------------
# Brute-force float64 reference (also imported by the other soft-DTW tests)
# ----------------------------------------------------------------------------------------------------------------------
def _softmin(values: np.ndarray, gamma: float) -> float:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.inf
    m = finite.min()
    return m - gamma * np.log(np.exp(-(finite - m) / gamma).sum())


def soft_dtw_reference(cost: np.ndarray, gamma: float, mask: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Value R[N,M] and its gradient E = dR[N,M]/dcost for one cost matrix, cells outside `mask` skipped."""
    cost = np.asarray(cost, np.float64)
    N, M = cost.shape
    keep = np.ones((N, M), bool) if mask is None else np.asarray(mask, bool)
    R = np.full((N + 2, M + 2), np.inf)
    R[0, 0] = 0.0
    for i in range(1, N + 1):
        for j in range(1, M + 1):
            if keep[i - 1, j - 1]:
                R[i, j] = cost[i - 1, j - 1] + _softmin(np.array([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]]), gamma)
    E = np.zeros((N + 2, M + 2))  # Cuturi & Blondel (2017), Algorithm 2, with explicit band checks
    E[N, M] = 1.0
    for i in range(N, 0, -1):
        for j in range(M, 0, -1):
            if (i, j) == (N, M) or not keep[i - 1, j - 1]:
                continue
            for ii, jj in ((i + 1, j), (i, j + 1), (i + 1, j + 1)):
                if ii <= N and jj <= M and keep[ii - 1, jj - 1]:
                    E[i, j] += E[ii, jj] * np.exp((R[ii, jj] - cost[ii - 1, jj - 1] - R[i, j]) / gamma)
    return R[N, M], E[1:N + 1, 1:M + 1]


def hard_dtw(cost: np.ndarray) -> float:
    N, M = cost.shape
    R = np.full((N + 1, M + 1), np.inf)
    R[0, 0] = 0.0
    for i in range(1, N + 1):
        for j in range(1, M + 1):
            R[i, j] = cost[i - 1, j - 1] + min(R[i - 1, j - 1], R[i - 1, j], R[i, j - 1])
    return R[N, M]


COSTS = {"ed": squared_euclidean_cost, "cos": cosine_cost}


def _pairs(P: int, N: int, M: int, D: int = 3, dtype=torch.float64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(P, N, D, generator=g, dtype=dtype) * 2 - 1, torch.rand(P, M, D, generator=g, dtype=dtype) * 2 - 1)


def _mask(n: int, m: int, bandwidth: float | None) -> np.ndarray:
    return sakoe_chiba_mask(n, m, bandwidth).numpy()


# ----------------------------------------------------------------------------------------------------------------------
# Values and gradients
# ----------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 5), (4, 7), (8, 3)])
@pytest.mark.parametrize("gamma", [0.01, 0.1, 1.0])
@pytest.mark.parametrize("bandwidth", [None, 1])
@pytest.mark.parametrize("distance", ["ed", "cos"])
def test_value_and_gradients_match_the_brute_force_programme(shape, gamma, bandwidth, distance):
    N, M = shape
    x, y = _pairs(3, N, M, seed=N * 31 + M)
    x.requires_grad_(True)
    y.requires_grad_(True)
    cost = COSTS[distance](x, y)
    mask = _mask(cost.shape[1], cost.shape[2], bandwidth)
    ref = [soft_dtw_reference(c, gamma, mask) for c in cost.detach().numpy()]
    ref_val = np.array([v for v, _ in ref])
    ref_E = torch.from_numpy(np.stack([e for _, e in ref]))
    ref_gx, ref_gy = torch.autograd.grad(cost, (x, y), ref_E)
    assert np.isfinite(ref_val).all()

    # dense path: gradient with respect to the cost is E
    c = cost.detach().requires_grad_(True)
    val = soft_dtw(c, gamma, bandwidth)
    (gc,) = torch.autograd.grad(val.sum(), c)
    np.testing.assert_allclose(val.detach().numpy(), ref_val, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gc.numpy(), ref_E.numpy(), rtol=1e-8, atol=1e-10)

    # fused path: cost assembled in the kernel, gradients with respect to the sequences
    val2 = soft_dtw_pairs(x, y, gamma, distance, bandwidth)
    gx, gy = torch.autograd.grad(val2.sum(), (x, y))
    np.testing.assert_allclose(val2.detach().numpy(), ref_val, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(gx.numpy(), ref_gx.numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gy.numpy(), ref_gy.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("distance", ["ed", "cos"])
@pytest.mark.parametrize("bandwidth", [None, 2])
def test_feature_and_gram_kernel_paths_agree(monkeypatch, distance, bandwidth):
    x, y = _pairs(LANES + 3, 9, 12, D=3, seed=21)
    out = []
    for max_dim in (8, 0):  # D = 3: cost from the features in the kernel, then from torch's Gram matrix
        monkeypatch.setattr(sdtw_module, "FEATURE_MAX_DIM", max_dim)
        xa, ya = x.clone().requires_grad_(True), y.clone().requires_grad_(True)
        val = soft_dtw_pairs(xa, ya, 0.1, distance, bandwidth)
        out.append((val, *torch.autograd.grad((val * torch.arange(len(val))).sum(), (xa, ya))))
    for a, b in zip(*out):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)




def test_float32_stays_float32_and_is_close_to_float64():
    x, y = _pairs(40, 64, 50, D=2, dtype=torch.float32, seed=5)
    x.requires_grad_(True)
    val = soft_dtw_pairs(x, y, 0.1)
    (gx,) = torch.autograd.grad(val.sum(), x)
    assert val.dtype == torch.float32 and gx.dtype == torch.float32
    x64 = x.detach().double().requires_grad_(True)
    val64 = soft_dtw_pairs(x64, y.double(), 0.1)
    (gx64,) = torch.autograd.grad(val64.sum(), x64)
    np.testing.assert_allclose(val.detach().numpy(), val64.detach().numpy(), rtol=2e-5)
    assert (gx.double() - gx64).abs().max() <= 1e-3 * gx64.abs().max()


@pytest.mark.parametrize("distance", ["ed", "cos"])
@pytest.mark.parametrize("bandwidth", [None, 1.5])
def test_gradcheck_float64(distance, bandwidth):
    x, y = _pairs(2, 5, 4, D=2, seed=11)
    x.requires_grad_(True)
    y.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: soft_dtw_pairs(a, b, 0.3, distance, bandwidth), (x, y))
    cost = COSTS[distance](x, y).detach().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda c: soft_dtw(c, 0.3, bandwidth), (cost,))


def test_small_gamma_approaches_hard_dtw():
    x, y = _pairs(4, 7, 9, seed=2)
    cost = squared_euclidean_cost(x, y)
    hard = np.array([hard_dtw(c) for c in cost.numpy()])
    gaps = []
    for gamma in (1.0, 0.1, 0.01, 0.001):
        soft = soft_dtw(cost, gamma).numpy()
        # soft-min is below min and above min - γ log 3 per step: hard - γ·log(3)·(N+M) <= soft <= hard
        assert (soft <= hard + 1e-12).all()
        assert (soft >= hard - gamma * math.log(3) * (7 + 9)).all()
        gaps.append(np.abs(soft - hard).max())
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 0.02


def test_symmetric_costs_give_symmetric_values():
    x, y = _pairs(5, 6, 9, seed=4)
    for distance in ("ed", "cos"):
        np.testing.assert_allclose(soft_dtw_pairs(x, y, 0.1, distance).numpy(),
                                   soft_dtw_pairs(y, x, 0.1, distance).numpy(), rtol=1e-12)
    x2, y2 = _pairs(5, 8, 8, seed=6)  # with a band the lengths must be equal for the band to be symmetric
    np.testing.assert_allclose(soft_dtw_pairs(x2, y2, 0.1, "ed", 2).numpy(),
                               soft_dtw_pairs(y2, x2, 0.1, "ed", 2).numpy(), rtol=1e-12)


def test_divergence_is_zero_on_equal_inputs_and_matches_its_definition():
    x, y = _pairs(3, 6, 8, seed=8)
    np.testing.assert_allclose(soft_dtw_divergence(x, x, 0.1).numpy(), 0.0, atol=1e-12)
    for cost_fn in (squared_euclidean_cost, cosine_cost, "cos", lambda a, b: squared_euclidean_cost(a, b) * 2):
        fn = COSTS.get(cost_fn, cost_fn) if isinstance(cost_fn, str) else cost_fn
        want = soft_dtw(fn(x, y), 0.1) - 0.5 * (soft_dtw(fn(x, x), 0.1) + soft_dtw(fn(y, y), 0.1))
        np.testing.assert_allclose(soft_dtw_divergence(x, y, 0.1, cost_fn).numpy(), want.numpy(), rtol=1e-10)
    module = SoftDTW(0.1, normalize=True)
    np.testing.assert_allclose(module(x, y).numpy(), soft_dtw_divergence(x, y, 0.1).numpy())




@pytest.mark.parametrize("distance", ["ed", "cos"])
@pytest.mark.parametrize("bandwidth", [None, 1])
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("gamma", [0.1, 0.5])
def test_the_public_module_matches_the_brute_force_programme_for_every_option(distance, bandwidth, normalize, gamma):
    """deepnag.loss.SoftDTW, the reusable loss: each option reaches the computation."""
    x, y = _pairs(3, 6, 6, seed=5)
    x.requires_grad_(True)

    def brute(a, b) -> np.ndarray:
        cost = COSTS[distance](a, b).detach().numpy()
        return np.array([soft_dtw_reference(c, gamma, _mask(*c.shape, bandwidth))[0] for c in cost])

    want = brute(x, y) - (0.5 * (brute(x, x) + brute(y, y)) if normalize else 0.0)
    got = SoftDTW(gamma=gamma, distance=distance, bandwidth=bandwidth, normalize=normalize)(x, y)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-9, atol=1e-9)
    (grad,) = torch.autograd.grad(got.sum(), x)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_the_public_modules_defaults_are_the_references():
    x, y = _pairs(2, 5, 7, seed=6)
    default = SoftDTW()
    assert (default.gamma, default.distance, default.bandwidth, default.normalize) == (0.1, "ed", None, False)
    torch.testing.assert_close(default(x, y), soft_dtw_pairs(x, y, 0.1, "ed", None))
    assert repr(default) == "SoftDTW(gamma=0.1, distance='ed', bandwidth=None, normalize=False)"


@pytest.mark.parametrize("gamma", [0.1, 1.0])  # at 1.0 the band changes even the self terms sdtw(x, x) measurably
@pytest.mark.parametrize("bandwidth", [None, 1])
def test_the_divergence_passes_its_band_and_cost_to_every_term(bandwidth, gamma):
    x, y = _pairs(2, 6, 6, seed=9)
    for cost_fn in (squared_euclidean_cost, "cos", lambda a, b: squared_euclidean_cost(a, b) * 2):
        fn = COSTS.get(cost_fn, cost_fn) if isinstance(cost_fn, str) else cost_fn

        def brute(a, b, fn=fn) -> np.ndarray:
            return np.array([soft_dtw_reference(c, gamma, _mask(*c.shape, bandwidth))[0]
                             for c in fn(a, b).detach().numpy()])

        want = brute(x, y) - 0.5 * (brute(x, x) + brute(y, y))
        got = soft_dtw_divergence(x, y, gamma, cost_fn, bandwidth)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-9)


def test_the_divergence_runs_the_two_known_costs_fused_without_a_dense_cost(monkeypatch):
    x, y = _pairs(2, 6, 7, seed=10)
    want = {fn: soft_dtw_divergence(x, y, 0.1, lambda a, b, fn=fn: fn(a, b)) for fn in (squared_euclidean_cost, cosine_cost)}

    def dense(*args, **kwargs):
        raise AssertionError("the dense (P, N, M) cost path ran")

    monkeypatch.setattr(sdtw_module, "soft_dtw", dense)
    for fn, value in want.items():
        torch.testing.assert_close(soft_dtw_divergence(x, y, 0.1, fn), value, rtol=1e-10, atol=1e-10)


def test_a_wrong_cost_says_what_it_got():
    with pytest.raises(UserError, match=r"must be a 3-D tensor \(pairs, N, M\); got torch\.Size\(\[2, 3\]\)$"):
        soft_dtw(torch.zeros(2, 3), 0.1)
    with pytest.raises(UserError, match=r"must be a 3-D tensor \(pairs, N, M\); got <class 'list'>$"):
        soft_dtw([[[1.0]]], 0.1)


def test_the_shortest_sequences_each_distance_accepts():
    """One point is a sequence for 'ed' (its value is the one cost); 'cos' needs two points, one direction."""
    x, y = torch.tensor([[[0.0, 1.0]]], dtype=torch.float64), torch.tensor([[[2.0, 3.0]]], dtype=torch.float64)
    np.testing.assert_allclose(soft_dtw_pairs(x, y, 0.1, "ed").numpy(), [8.0])
    a = torch.tensor([[[0.0, 0.0], [1.0, 0.0]]], dtype=torch.float64)
    b = torch.tensor([[[5.0, 5.0], [5.0, 7.0]]], dtype=torch.float64)
    np.testing.assert_allclose(soft_dtw_pairs(a, b, 0.1, "cos").numpy(), [1.0], atol=1e-12)  # orthogonal steps
    with pytest.raises(UserError, match="at least 2"):
        soft_dtw_pairs(x, y, 0.1, "cos")


def test_no_gradient_work_when_nothing_requires_grad(monkeypatch):
    calls = []
    real = sdtw_module.soft_dtw_cpu

    def spy(*args, **kwargs):
        calls.append(args[7])  # want_grad
        return real(*args, **kwargs)

    monkeypatch.setattr(sdtw_module, "soft_dtw_cpu", spy)
    x, y = _pairs(2, 5, 5)
    assert soft_dtw_pairs(x, y, 0.1).grad_fn is None
    soft_dtw_pairs(x.requires_grad_(True), y, 0.1)
    assert calls == [False, True]


@pytest.mark.parametrize("D", [3, 10], ids=["feature path", "Gram path"])
@pytest.mark.parametrize("distance", ["ed", "cos"])
def test_the_backward_pass_computes_only_the_gradients_asked_for(monkeypatch, distance, D):
    """The generator's samples need a gradient, the real batch does not: half of the backward's work is saved."""
    sides = []
    real = sdtw_module._input_grad

    def spy(first, *args, **kwargs):
        sides.append(first.shape[1])
        return real(first, *args, **kwargs)

    monkeypatch.setattr(sdtw_module, "_input_grad", spy)
    n, m = (4, 6) if distance == "cos" else (5, 7)  # 'cos' works on the directions between points
    for wants, expected in (((True, False), [n]), ((False, True), [m]), ((True, True), [n, m])):
        sides.clear()
        x, y = _pairs(2, 5, 7, D=D, seed=3)
        x.requires_grad_(wants[0])
        y.requires_grad_(wants[1])
        value = soft_dtw_pairs(x, y, 0.1, distance)
        (grad,) = torch.autograd.grad(value.sum(), x if wants[0] else y)
        assert sorted(sides) == expected, wants
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(("D", "bandwidth", "gram", "zeroed_E"), [
    (sdtw_module.FEATURE_MAX_DIM, None, False, False), (sdtw_module.FEATURE_MAX_DIM + 1, None, True, False),
    (sdtw_module.FEATURE_MAX_DIM + 1, 1, True, True), (3, 1, False, False)])
def test_the_kernel_path_and_its_gradient_buffer_follow_the_feature_count_and_band(monkeypatch, D, bandwidth, gram,
                                                                                   zeroed_E, dtype):
    """Up to FEATURE_MAX_DIM features the kernel builds the cost itself; above, it gets the Gram matrix, and a banded
    gradient buffer zeroed outside the band (an unbanded one is written whole, so it is left for the kernel to make)."""
    seen = []
    real = sdtw_module.soft_dtw_cpu

    def spy(G, *args, **kwargs):
        out_E = args[8] if len(args) > 8 else kwargs.get("out_E")
        seen.append((G is not None, out_E is not None and not out_E.any()))
        assert out_E is None or out_E.dtype == args[0].dtype  # the buffer in the inputs' precision
        return real(G, *args, **kwargs)

    monkeypatch.setattr(sdtw_module, "soft_dtw_cpu", spy)
    x, y = _pairs(2, 6, 6, D=D, dtype=dtype, seed=4)
    soft_dtw_pairs(x.requires_grad_(True), y, 0.1, "ed", bandwidth).sum().backward()
    assert seen == [(gram, zeroed_E)] and x.grad.dtype == dtype


def test_an_empty_batch_of_sequences_gives_no_values():
    x, y = _pairs(2, 5, 6)
    for distance in ("ed", "cos"):
        assert soft_dtw_pairs(x[:0], y[:0], 0.1, distance).shape == (0,)


# ----------------------------------------------------------------------------------------------------------------------
# Costs
# ----------------------------------------------------------------------------------------------------------------------




# ----------------------------------------------------------------------------------------------------------------------
# The band
# ----------------------------------------------------------------------------------------------------------------------
def test_band_is_the_reference_band_for_equal_lengths():
    for n, w in itertools.product((1, 5, 9), (0, 1, 2.5)):
        i, j = np.indices((n, n))
        assert (sakoe_chiba_mask(n, n, w).numpy() == (np.abs(i - j) <= w)).all()
    assert sakoe_chiba_mask(4, 6, None).all()


@pytest.mark.parametrize("n, m, w", [(5, 17, 0), (17, 5, 0), (9, 12, 1), (64, 40, 3), (3, 30, 2), (30, 3, 0.5)])
def test_band_for_unequal_lengths_follows_the_slope_and_holds_a_path(n, m, w):
    lo, hi = sakoe_chiba_band(n, m, float(w))
    mask = sakoe_chiba_mask(n, m, w).numpy()
    i, j = np.indices((n, m))
    assert mask[np.abs(j - i * (m - 1) / (n - 1)) <= w].all()  # every cell near the diagonal is kept
    assert lo[0] == 0 and hi[-1] == m - 1
    assert (np.diff(lo) >= 0).all() and (np.diff(hi) >= 0).all() and (lo <= hi).all()
    assert (lo[1:] <= hi[:-1] + 1).all()  # consecutive rows touch: a monotone path exists
    x, y = _pairs(2, n, m, seed=n + m)
    cost = squared_euclidean_cost(x, y)
    val = soft_dtw(cost, 0.1, w)
    assert torch.isfinite(val).all()  # the reference returns inf here
    np.testing.assert_allclose(val.numpy(), [soft_dtw_reference(c, 0.1, mask)[0] for c in cost.numpy()], rtol=1e-10)


def test_band_only_removes_paths():
    x, y = _pairs(3, 10, 14, seed=12)
    free = soft_dtw_pairs(x, y, 0.1)
    banded = soft_dtw_pairs(x, y, 0.1, "ed", 1)
    assert (banded >= free).all() and (banded > free + 1e-9).any()


# ----------------------------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------------------------
def _with_nan(x: torch.Tensor, value: float) -> torch.Tensor:
    bad = x.clone()
    bad[1, 2, 0] = value
    return bad


def _cost_with_inf(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    cost = squared_euclidean_cost(x, y)
    cost[0, 4, 5] = float("inf")
    return cost


# Each bad input (x, y: two pairs of 5- and 6-point, 3-feature float64 sequences) and the words its error must hold.
BAD_INPUTS = {
    "nan feature": (lambda x, y: soft_dtw_pairs(_with_nan(x, float("nan")), y, 0.1), "NaN or inf"),
    "inf feature (cos)": (lambda x, y: soft_dtw_pairs(_with_nan(x, float("inf")), y, 0.1, "cos"), "NaN or inf"),
    "inf cost": (lambda x, y: soft_dtw(_cost_with_inf(x, y), 0.1), "NaN or inf"),
    "feature counts": (lambda x, y: soft_dtw_pairs(x, y[:, :, :2], 0.1), "features"),
    "batch sizes": (lambda x, y: soft_dtw_pairs(x, y[:1], 0.1), "batch size"),
    "no time step": (lambda x, y: soft_dtw_pairs(x[:, :0], y, 0.1), "time step"),
    "one point (cos)": (lambda x, y: soft_dtw_pairs(x[:, :1], y, 0.1, "cos"), "time step"),  # no direction
    "empty rows": (lambda x, y: soft_dtw(squared_euclidean_cost(x, y)[:, :0], 0.1),
                   r"non-empty sequences; got cost matrices of shape \(0, 6\)$"),
    "empty columns": (lambda x, y: soft_dtw(squared_euclidean_cost(x, y)[:, :, :0], 0.1),
                      r"non-empty sequences; got cost matrices of shape \(5, 0\)$"),
    **{f"gamma {gamma!r}": (lambda x, y, gamma=gamma: soft_dtw(squared_euclidean_cost(x, y), gamma), "gamma")
       for gamma in (0, -0.1, float("nan"), float("inf"), "a")},
    "negative bandwidth": (lambda x, y: soft_dtw_pairs(x, y, 0.1, "ed", -1),
                           r"^soft-DTW bandwidth must be None or a finite number >= 0; got -1$"),
    "bandwidth not a number": (lambda x, y: soft_dtw_pairs(x, y, 0.1, "ed", "wide"),
                               r"^soft-DTW bandwidth must be None or a number >= 0; got 'wide'$"),
    "a device without a kernel": (lambda x, y: soft_dtw(torch.zeros(2, 3, 4, device="meta"), 0.1),
                                  r"^soft-DTW runs on CPU or CUDA tensors; got device meta$"),
    "unknown distance": (lambda x, y: soft_dtw_pairs(x, y, 0.1, "manhattan"),
                         r"soft-DTW distance must be one of \['cos', 'ed'\]; got 'manhattan'$"),
    "unknown module distance": (lambda x, y: SoftDTW(distance="manhattan"),
                                r"soft-DTW distance must be one of \['cos', 'ed'\]; got 'manhattan'$"),
    "2-D cost": (lambda x, y: soft_dtw(squared_euclidean_cost(x, y)[0], 0.1), "3-D"),
    "mixed dtypes": (lambda x, y: soft_dtw_pairs(x, y.float(), 0.1), "dtype"),
    "half cost": (lambda x, y: soft_dtw(squared_euclidean_cost(x, y).half(), 0.1), "float32 or float64"),
}


@pytest.mark.parametrize(("call", "message"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_raises_a_clear_user_error(call, message):
    x, y = _pairs(2, 5, 6)
    with pytest.raises(UserError, match=message):
        call(x, y)


def test_a_one_column_cost_is_a_sequence_and_an_empty_batch_gives_no_values():
    """M = 1 (or N = 1) is the one path through the column (or row): the value is the sum of its costs."""
    cost = torch.rand(3, 4, 1, dtype=torch.float64)
    np.testing.assert_allclose(soft_dtw(cost, 0.1).numpy(), cost.sum((1, 2)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(soft_dtw(cost.transpose(1, 2), 0.1).numpy(), cost.sum((1, 2)).numpy(), rtol=1e-12)
    empty = soft_dtw(torch.zeros(0, 4, 5, dtype=torch.float64), 0.1)
    assert empty.shape == (0,) and empty.dtype == torch.float64


@pytest.mark.parametrize("distance", ["ed", "cos"])
@pytest.mark.parametrize("D", [1, 2, 3, 5, 63], ids=lambda d: f"D{d}")
def test_every_feature_count_branch_matches_the_brute_force_programme(D, distance):
    """The kernels specialise small feature counts (the 2-feature branch is what dollar-gds runs): each one checked."""
    x, y = _pairs(4, 6, 5, D=D, seed=D)
    x.requires_grad_(True)
    y.requires_grad_(True)
    cost = COSTS[distance](x, y)
    ref = [soft_dtw_reference(c, 0.1, None) for c in cost.detach().numpy()]
    ref_E = torch.from_numpy(np.stack([e for _, e in ref]))
    ref_gx, ref_gy = torch.autograd.grad(cost, (x, y), ref_E)
    values = soft_dtw_pairs(x, y, 0.1, distance)
    gx, gy = torch.autograd.grad(values.sum(), (x, y))
    np.testing.assert_allclose(values.detach().numpy(), [v for v, _ in ref], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(gx.numpy(), ref_gx.numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gy.numpy(), ref_gy.numpy(), rtol=1e-7, atol=1e-9)
