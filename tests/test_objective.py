"""The DeepNAG loss against its formula (METHOD.md §3), written out in float64 with plain loops, term by term."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deepnag.config import Config
from deepnag.loss.objective import deepnag_loss, equal_spacing_loss, gradient_penalty
from deepnag.models import DifferentiableGRU

GAMMA = 0.1


def soft_dtw_loops(cost: np.ndarray, gamma: float) -> float:
    """R[i,j] = cost[i-1,j-1] + softmin_γ(R[i-1,j-1], R[i-1,j], R[i,j-1]); the value is R[n,m]."""
    n, m = cost.shape
    R = np.full((n + 1, m + 1), np.inf)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r = [R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]]
            low = min(r)
            R[i, j] = cost[i - 1, j - 1] + low - gamma * math.log(sum(math.exp(-(v - low) / gamma) for v in r))
    return R[n, m]


def distance_loops(a: np.ndarray, b: np.ndarray, m: str, gamma: float = GAMMA) -> float:
    """The loss's two distances: `ed` squared Euclidean between points, `cos` 1 − cosine between directions."""
    if m == "cos":
        a, b = np.diff(a, axis=0), np.diff(b, axis=0)
    cost = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            if m == "ed":
                cost[i, j] = sum((a[i, k] - b[j, k]) ** 2 for k in range(a.shape[1]))
            else:
                dot = sum(a[i, k] * b[j, k] for k in range(a.shape[1]))
                cost[i, j] = 1.0 - dot / (math.sqrt(sum(v * v for v in a[i])) * math.sqrt(sum(v * v for v in b[j])))
    return soft_dtw_loops(cost, gamma)


def ahd_loops(A: np.ndarray, B: np.ndarray, y: list[int], m: str, gamma: float = GAMMA) -> float:
    """AHD_m(A, B) = ½ [Σ_i min_{j: y_j = y_i} m(A_i, B_j) + Σ_j min_{i: y_i = y_j} m(A_i, B_j)]."""
    d = [[distance_loops(A[i], B[j], m, gamma) for j in range(len(B))] for i in range(len(A))]
    rows = sum(min(d[i][j] for j in range(len(B)) if y[j] == y[i]) for i in range(len(A)))
    cols = sum(min(d[i][j] for i in range(len(A)) if y[i] == y[j]) for j in range(len(B)))
    return 0.5 * (rows + cols)


def resample_loops(x: np.ndarray) -> float:
    """1000 · mean over the batch and t of (d_t − L/n)², d_t = ‖p_{t+1} − p_t‖, L = Σ_t d_t."""
    total, count = 0.0, 0
    for sample in x:
        steps = [math.dist(sample[t + 1], sample[t]) for t in range(len(sample) - 1)]
        target = sum(steps) / len(sample)
        total += sum((d - target) ** 2 for d in steps)
        count += len(steps)
    return 1000.0 * total / count


@pytest.fixture(params=[2, 3], ids=["2D", "3D"])
def batch(request):
    """real batches spread wide, fake ones tight: the fake spread is below the real one, so |·| matters."""
    rng = np.random.default_rng(request.param)
    n, features = 7, request.param
    y = [0, 0, 1, 1, 1, 2]
    base = rng.normal(size=(3, n, features)).cumsum(1)
    real_1 = base[y] + 0.8 * rng.normal(size=(6, n, features))
    real_2 = base[y] + 0.8 * rng.normal(size=(6, n, features))
    fake_1 = base[y] + 0.05 * rng.normal(size=(6, n, features))
    fake_2 = base[y] + 0.05 * rng.normal(size=(6, n, features))
    return y, real_1, real_2, fake_1, fake_2


@pytest.mark.parametrize("gamma", [GAMMA, 0.7], ids=["gamma=0.1", "gamma=0.7"])
def test_every_term_and_the_total_follow_the_spec(batch, gamma):
    y, real_1, real_2, fake_1, fake_2 = batch
    t = {k: torch.from_numpy(v) for k, v in dict(r1=real_1, r2=real_2, f1=fake_1, f2=fake_2).items()}
    loss, terms = deepnag_loss(t["r1"], t["r2"], t["f1"], t["f2"], torch.tensor(y), gamma=gamma)
    expected_total = resample_loops(fake_1)
    assert terms["loss_resample"].item() == pytest.approx(expected_total, rel=1e-9)
    for m in ("ed", "cos"):
        fidelity = ahd_loops(real_1, fake_1, y, m, gamma)
        spread_fake, spread_real = ahd_loops(fake_1, fake_2, y, m, gamma), ahd_loops(real_1, real_2, y, m, gamma)
        assert spread_fake < spread_real  # the batch is built so: the absolute value is what keeps the term positive
        diversity = abs(spread_fake - spread_real)
        assert terms[f"fidelity_{m}"].item() == pytest.approx(fidelity, rel=1e-7)
        assert terms[f"diversity_{m}"].item() == pytest.approx(diversity, rel=1e-7)
        assert terms[f"loss_{m}"].item() == pytest.approx(fidelity + diversity, rel=1e-7)
        expected_total += fidelity + diversity
    assert loss.item() == pytest.approx(expected_total / 3, rel=1e-7)
    assert terms["loss"].item() == loss.item()


@pytest.mark.parametrize("weight", [0.0, 2.5])
def test_the_diversity_weight_scales_only_the_diversity_term(batch, weight):
    """--diversity-weight: L_m = fidelity + w·diversity; the reported terms stay unweighted; w = 1 is the default."""
    y, real_1, real_2, fake_1, fake_2 = (batch[0], *(torch.from_numpy(v) for v in batch[1:]))
    labels = torch.tensor(y)
    default, plain = deepnag_loss(real_1, real_2, fake_1, fake_2, labels)
    one, _ = deepnag_loss(real_1, real_2, fake_1, fake_2, labels, diversity_weight=1.0)
    weighted, terms = deepnag_loss(real_1, real_2, fake_1, fake_2, labels, diversity_weight=weight)
    assert Config().diversity_weight == 1.0 and default.item() == one.item()
    expected = plain["loss_resample"].item()
    for m in ("ed", "cos"):
        assert terms[f"diversity_{m}"].item() == pytest.approx(plain[f"diversity_{m}"].item(), rel=1e-12)
        assert plain[f"diversity_{m}"].item() > 0  # so the weight shows
        assert terms[f"loss_{m}"].item() == pytest.approx(
            plain[f"fidelity_{m}"].item() + weight * plain[f"diversity_{m}"].item(), rel=1e-12)
        expected += plain[f"fidelity_{m}"].item() + weight * plain[f"diversity_{m}"].item()
    assert weighted.item() == pytest.approx(expected / 3, rel=1e-12)


def test_the_equal_spacing_term_divides_by_n_not_n_minus_1():
    """Evenly spaced points still pay: the reference's target is L/n, below each of the n−1 equal steps."""
    line = torch.linspace(0, 1, 5, dtype=torch.float64)[None, :, None]  # 4 steps of 0.25, target 1/5
    assert equal_spacing_loss(line).item() == pytest.approx(1000 * (0.25 - 0.2) ** 2)


def test_the_default_gamma_is_the_references():
    assert Config().gamma == 0.1
    y = torch.tensor([0, 0])
    x = torch.rand(2, 5, 2, dtype=torch.float64)
    default, _ = deepnag_loss(x, x.flip(0), x + 0.1, x - 0.1, y)
    explicit, _ = deepnag_loss(x, x.flip(0), x + 0.1, x - 0.1, y, gamma=0.1)
    other, _ = deepnag_loss(x, x.flip(0), x + 0.1, x - 0.1, y, gamma=1.0)
    assert default.item() == explicit.item() != other.item()


def test_only_fake_1_carries_gradients_and_they_match_finite_differences():
    rng = np.random.default_rng(0)
    y = torch.tensor([0, 0, 1, 1])
    real_1, real_2, fake_2 = (torch.from_numpy(rng.normal(size=(4, 5, 2)).cumsum(1)) for _ in range(3))
    fake_1 = torch.from_numpy(rng.normal(size=(4, 5, 2)).cumsum(1)).requires_grad_(True)
    torch.autograd.gradcheck(lambda f: deepnag_loss(real_1, real_2, f, fake_2, y)[0], (fake_1,), eps=1e-6, atol=1e-5)


def test_the_reference_style_loss_of_the_speed_benchmark_gives_the_same_value_and_gradient(batch):
    """benchmarks/bench_train.py times benchmarks/reference_loss.py against this project's loss: same function."""
    from benchmarks.reference_loss import reference_deepnag_loss

    y, real_1, real_2, fake_1, fake_2 = batch
    r1, r2, f2 = (torch.from_numpy(v) for v in (real_1, real_2, fake_2))
    ours_input = torch.from_numpy(fake_1).requires_grad_(True)
    theirs_input = torch.from_numpy(fake_1).requires_grad_(True)
    ours, _ = deepnag_loss(r1, r2, ours_input, f2, torch.tensor(y), gamma=GAMMA)
    theirs = reference_deepnag_loss(r1, r2, theirs_input, f2, torch.tensor(y), gamma=GAMMA)
    expected = resample_loops(fake_1) + sum(
        ahd_loops(real_1, fake_1, y, m) + abs(ahd_loops(fake_1, fake_2, y, m) - ahd_loops(real_1, real_2, y, m))
        for m in ("ed", "cos"))
    assert theirs.item() == pytest.approx(expected / 3, rel=1e-7)
    assert theirs.item() == pytest.approx(ours.item(), rel=1e-9)
    ours.backward()
    theirs.backward()
    torch.testing.assert_close(theirs_input.grad, ours_input.grad, rtol=1e-6, atol=1e-9)


def test_the_wgan_gp_interpolates_and_penalty_follow_their_definitions():
    """DeepGAN's terms (METHOD.md §5): x̂ = α·real + (1 − α)·fake; mean over samples of (‖∇_x̂ D(x̂)‖₂ − 1)²."""
    from deepnag.loss.objective import mix, penalty_from

    rng = np.random.default_rng(4)
    real, fake = (torch.from_numpy(rng.normal(size=(3, 4, 2))) for _ in range(2))
    alpha = torch.tensor([0.0, 0.25, 1.0], dtype=torch.float64)
    mixed = mix(real, fake, alpha)
    assert mixed.requires_grad
    for b in range(3):
        np.testing.assert_allclose(mixed[b].detach().numpy(),
                                   alpha[b].item() * real[b].numpy() + (1 - alpha[b].item()) * fake[b].numpy())
    # A linear critic D(x) = Σ w_b ⊙ x per sample: its gradient with respect to sample b is w_b.
    w = torch.from_numpy(rng.normal(size=(3, 4, 2))).requires_grad_(True)
    penalty = penalty_from((mixed * w).sum(dim=(1, 2)), mixed)
    expected = np.mean([(math.sqrt(float((w[b].detach() ** 2).sum())) - 1.0) ** 2 for b in range(3)])
    assert penalty.item() == pytest.approx(expected, rel=1e-12)
    (grad_w,) = torch.autograd.grad(penalty, w)  # the penalty trains the critic: the graph is kept
    norms = w.detach().flatten(1).norm(dim=1)
    np.testing.assert_allclose(grad_w.numpy(), ((2 / 3) * (norms - 1) / norms)[:, None, None].numpy() * w.detach().numpy())


def test_the_wgan_gp_penalty_matches_finite_differences():
    """DeepGAN's gradient penalty: mean over samples of (‖∇ D at the interpolate‖ − 1)², the gradient by differences."""
    torch.manual_seed(1)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = DifferentiableGRU(3, 4)
            self.head = torch.nn.Linear(4, 1)

        def forward(self, x, labels, twice_differentiable=False):
            # The penalty's pass is differentiated twice: it must ask for it (on CUDA cuDNN's GRU cannot give it).
            assert twice_differentiable is (x.requires_grad and torch.is_grad_enabled())
            return self.head(self.gru(x, twice_differentiable)[0][:, -1]).squeeze(-1) * (1 + labels)

    critic = Tiny().double()
    real, fake = torch.randn(2, 5, 3, dtype=torch.float64), torch.randn(2, 5, 3, dtype=torch.float64)
    labels = torch.tensor([0.0, 1.0], dtype=torch.float64)
    alpha = torch.tensor([0.3, 0.8], dtype=torch.float64)
    penalty = gradient_penalty(critic, real, fake, labels, alpha)
    mixed = alpha[:, None, None] * real + (1 - alpha[:, None, None]) * fake
    eps, norms = 1e-6, []
    for b in range(2):
        grad = torch.zeros(5, 3, dtype=torch.float64)
        for idx in torch.cartesian_prod(torch.arange(5), torch.arange(3)):
            up, down = mixed.clone(), mixed.clone()
            up[b, idx[0], idx[1]] += eps
            down[b, idx[0], idx[1]] -= eps
            grad[idx[0], idx[1]] = (critic(up, labels)[b] - critic(down, labels)[b]) / (2 * eps)
        norms.append(grad.norm())
    expected = torch.stack([(n - 1) ** 2 for n in norms]).mean()
    assert abs(penalty.item() - expected.item()) < 1e-6
    penalty.backward()  # differentiable w.r.t. the critic's weights (double backward)
    assert critic.head.weight.grad is not None


def test_equal_spacing_loss_definition():
    x = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [6.0, 0.0]]])
    steps = torch.tensor([1.0, 2.0, 3.0])
    target = steps.sum() / 4  # the reference divides by n, not n - 1
    assert torch.isclose(equal_spacing_loss(x), 1000 * ((steps - target) ** 2).mean())
