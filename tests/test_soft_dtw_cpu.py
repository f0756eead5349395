"""The Numba CPU kernels: blocks, threads and forked processes give the same values."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from deepnag.loss.costs import squared_euclidean_cost
from deepnag.loss.soft_dtw_autograd import (
    soft_dtw,
    soft_dtw_pairs,
)
from deepnag.loss.soft_dtw_cpu import LANES
from tests.test_soft_dtw_autograd import _pairs, soft_dtw_reference


def test_many_blocks_and_a_partial_one_match_the_reference_pair_by_pair():
    P = 2 * LANES + 5  # two full blocks of pairs and a partial one
    x, y = _pairs(P, 6, 5, seed=3)
    cost = squared_euclidean_cost(x, y)
    val = soft_dtw(cost.requires_grad_(True), 0.1)
    (E,) = torch.autograd.grad(val.sum(), cost)
    for p in range(P):
        v, e = soft_dtw_reference(cost[p].detach().numpy(), 0.1)
        assert val[p].item() == pytest.approx(v, rel=1e-10)
        np.testing.assert_allclose(E[p].numpy(), e, rtol=1e-8, atol=1e-12)


def test_threads_do_not_change_results():
    x, y = _pairs(3 * LANES, 9, 7, seed=9)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = soft_dtw_pairs(x, y, 0.1)
        torch.set_num_threads(2)
        two = soft_dtw_pairs(x, y, 0.1)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one, two)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_still_computes_soft_dtw():
    x, y = _pairs(3, 5, 4, D=2, dtype=torch.float32, seed=30)
    parent = soft_dtw_pairs(x, y, 0.1)  # the parent has started the kernel (and OpenMP) first
    pid = os.fork()
    if pid == 0:  # child: same values, through the fallback kernel; it must never return into pytest
        ok = False
        try:
            ok = torch.allclose(soft_dtw_pairs(x, y, 0.1), parent, rtol=1e-5)
        finally:
            os._exit(0 if ok else 3)  # ok is bound even when the kernel raised
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
