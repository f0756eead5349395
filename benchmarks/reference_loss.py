"""The reference implementation's way of computing DeepNAG's loss on a CPU, kept for comparison only.

As the reference DeepNAG does it (models/hausdorff_distance.py with the public
pytorch-softdtw-cuda CPU path): all B² pairs of the two batches are expanded,
then masked down to the same-class pairs; the cost is built from the full
B²×N×M×D difference tensor; the tensors make a float64 NumPy round trip into a
per-pair Numba loop (not parallel) that calls exp/log per cell. Never used by
the package: only `bench_train.py` imports it, to measure the speed-up in the
same run.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import jit

from deepnag.loss.objective import equal_spacing_loss


@jit(nopython=True, cache=True)
def _forward(D, gamma):
    B, N, M = D.shape
    R = np.ones((B, N + 2, M + 2)) * np.inf
    R[:, 0, 0] = 0
    for b in range(B):
        for j in range(1, M + 1):
            for i in range(1, N + 1):
                r0 = -R[b, i - 1, j - 1] / gamma
                r1 = -R[b, i - 1, j] / gamma
                r2 = -R[b, i, j - 1] / gamma
                rmax = max(max(r0, r1), r2)
                rsum = np.exp(r0 - rmax) + np.exp(r1 - rmax) + np.exp(r2 - rmax)
                R[b, i, j] = D[b, i - 1, j - 1] - gamma * (np.log(rsum) + rmax)
    return R


@jit(nopython=True, cache=True)
def _backward(D_, R, gamma):
    B, N, M = D_.shape
    D = np.zeros((B, N + 2, M + 2))
    E = np.zeros((B, N + 2, M + 2))
    D[:, 1:N + 1, 1:M + 1] = D_
    E[:, -1, -1] = 1
    R[:, :, -1] = -np.inf
    R[:, -1, :] = -np.inf
    R[:, -1, -1] = R[:, -2, -2]
    for k in range(B):
        for j in range(M, 0, -1):
            for i in range(N, 0, -1):
                if np.isinf(R[k, i, j]):
                    R[k, i, j] = -np.inf
                a = np.exp((R[k, i + 1, j] - R[k, i, j] - D[k, i + 1, j]) / gamma)
                b = np.exp((R[k, i, j + 1] - R[k, i, j] - D[k, i, j + 1]) / gamma)
                c = np.exp((R[k, i + 1, j + 1] - R[k, i, j] - D[k, i + 1, j + 1]) / gamma)
                E[k, i, j] = E[k, i + 1, j] * a + E[k, i, j + 1] * b + E[k, i + 1, j + 1] * c
    return E[:, 1:N + 1, 1:M + 1]


class _ReferenceSoftDTW(torch.autograd.Function):
    @staticmethod
    def forward(ctx, D, gamma):
        R = torch.from_numpy(_forward(D.detach().cpu().double().numpy(), gamma)).to(D.device, D.dtype)
        ctx.save_for_backward(D, R)
        ctx.gamma = gamma
        return R[:, -2, -2]

    @staticmethod
    def backward(ctx, grad):
        D, R = ctx.saved_tensors
        E = _backward(D.detach().cpu().double().numpy(), R.detach().cpu().double().numpy(), ctx.gamma)
        E = torch.from_numpy(E).to(D.device, D.dtype)
        return grad.view(-1, 1, 1) * E, None


def _euclidean(x, y):
    n, m, d = x.size(1), y.size(1), x.size(2)
    return (x.unsqueeze(2).expand(-1, n, m, d) - y.unsqueeze(1).expand(-1, n, m, d)).pow(2).sum(3)


def _cosine(x, y):
    x, y = x[:, 1:] - x[:, :-1], y[:, 1:] - y[:, :-1]
    n, m, d = x.size(1), y.size(1), x.size(2)
    xe, ye = x.unsqueeze(2).expand(-1, n, m, d), y.unsqueeze(1).expand(-1, n, m, d)
    return 1 - torch.nn.functional.cosine_similarity(xe, ye, dim=3, eps=1e-8)


def reference_hausdorff(a, b, labels, cost, gamma=0.1):
    """All B² pairs expanded, then masked to the same-class ones: the loss's AHD (METHOD.md §3) as a sum over the batch."""
    B = a.shape[0]
    same = torch.cartesian_prod(labels, labels)
    same = same[:, 0] == same[:, 1]
    x = a.repeat_interleave(B, 0)[same]
    y = b.repeat(B, 1, 1)[same]
    d = torch.full((B * B,), float("inf"), dtype=a.dtype, device=a.device)
    d[same] = _ReferenceSoftDTW.apply(cost(x, y), gamma)
    d = d.view(B, B)
    return 0.5 * (d.min(1).values.sum() + d.min(0).values.sum())


def reference_deepnag_loss(real_1, real_2, fake_1, fake_2, labels, gamma=0.1):
    """DeepNAG's loss computed the reference's way (same value as deepnag.loss.objective.deepnag_loss)."""
    total = equal_spacing_loss(fake_1)
    for cost in (_euclidean, _cosine):
        fidelity = reference_hausdorff(real_1, fake_1, labels, cost, gamma)
        with torch.no_grad():
            spread_real = reference_hausdorff(real_1, real_2, labels, cost, gamma)
        spread_fake = reference_hausdorff(fake_1, fake_2, labels, cost, gamma)
        total = total + fidelity + (spread_fake - spread_real).abs()
    return total / 3.0
