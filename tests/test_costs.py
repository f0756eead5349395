"""Frame costs: squared Euclidean and cosine of directions, against broadcasting and zero steps."""

from __future__ import annotations

import torch

from deepnag.loss.costs import cosine_cost, squared_euclidean_cost
from tests.test_soft_dtw_autograd import _pairs


def test_squared_euclidean_cost_equals_the_broadcast_difference():
    x, y = _pairs(3, 6, 4, D=63)
    want = ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1)
    torch.testing.assert_close(squared_euclidean_cost(x, y), want, rtol=1e-12, atol=1e-12)
    assert (squared_euclidean_cost(x, x) >= 0).all()


def test_cosine_cost_differences_points_and_guards_zero_steps():
    x, y = _pairs(2, 6, 5, D=2)
    dx, dy = x[:, 1:] - x[:, :-1], y[:, 1:] - y[:, :-1]
    want = 1 - torch.nn.functional.cosine_similarity(dx[:, :, None, :], dy[:, None, :, :], dim=-1)
    torch.testing.assert_close(cosine_cost(x, y), want)
    x[:, 3] = x[:, 2]  # a zero-length step has no direction: cost 1 against everything, no NaN
    c = cosine_cost(x, y)
    assert torch.isfinite(c).all() and torch.allclose(c[:, 2], torch.ones_like(c[:, 2]))
