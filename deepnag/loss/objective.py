"""Training objectives: DeepNAG's soft-DTW Hausdorff loss and DeepGAN's WGAN-GP terms (METHOD.md §3 and §5)."""

from __future__ import annotations

import torch

from deepnag.config import Config
from deepnag.loss.hausdorff import class_aware_hausdorff

GAMMA = Config.gamma
DIVERSITY_WEIGHT = Config.diversity_weight
DISTANCES = ("ed", "cos")
RESAMPLE_WEIGHT = 1000.0


def equal_spacing_loss(x: torch.Tensor) -> torch.Tensor:
    """1000 · mean_t (d_t − L/n)² with d_t = ‖x[t+1] − x[t]‖ and L = Σ d_t, averaged over the batch.

    The target divides by n, not n − 1, as the reference does.
    """
    steps = torch.linalg.vector_norm(x[:, 1:] - x[:, :-1], dim=-1)  # (B, n-1)
    target = steps.sum(dim=1, keepdim=True) / x.shape[1]
    return RESAMPLE_WEIGHT * ((steps - target) ** 2).mean()


def deepnag_loss(
    real_1: torch.Tensor,
    real_2: torch.Tensor,
    fake_1: torch.Tensor,
    fake_2: torch.Tensor,
    labels: torch.Tensor,
    gamma: float = GAMMA,
    diversity_weight: float = DIVERSITY_WEIGHT,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """DeepNAG's loss for one step, and its terms (detached) for monitoring.

    For m in {ed, cos}: L_m = AHD_m(real_1, fake_1) + w·|AHD_m(fake_1, fake_2) − AHD_m(real_1, real_2)|;
    loss = (L_ed + L_cos + L_resample) / 3. `fake_2` should be detached (METHOD.md §3). The reference's w is 1;
    `diversity_weight` (`--diversity-weight`) trades the diversity term against fidelity. The `diversity_m`
    terms reported are unweighted.
    """
    terms: dict[str, torch.Tensor] = {}
    total = equal_spacing_loss(fake_1)
    terms["loss_resample"] = total
    for m in DISTANCES:
        fidelity = class_aware_hausdorff(real_1, fake_1, labels, distance=m, gamma=gamma)
        with torch.no_grad():
            spread_real = class_aware_hausdorff(real_1, real_2, labels, distance=m, gamma=gamma)
        spread_fake = class_aware_hausdorff(fake_1, fake_2, labels, distance=m, gamma=gamma)
        diversity = (spread_fake - spread_real).abs()
        terms[f"loss_{m}"] = fidelity + diversity_weight * diversity
        terms[f"fidelity_{m}"] = fidelity
        terms[f"diversity_{m}"] = diversity
        total = total + terms[f"loss_{m}"]
    loss = total / 3.0
    metrics = {"loss": loss.detach(), **{k: v.detach() for k, v in terms.items()}}
    return loss, metrics


def mix(real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's interpolates x̂ = α·real + (1 − α)·fake, α per sample, ready for differentiation."""
    a = alpha[:, None, None]
    return (a * real + (1 - a) * fake).requires_grad_(True)


def penalty_from(scores: torch.Tensor, mixed: torch.Tensor) -> torch.Tensor:
    """mean over samples of (‖∇_x̂ D(x̂)‖₂ − 1)², from the critic's scores on `mixed` (double-backward graph kept)."""
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def gradient_penalty(
    critic: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor, alpha: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP's penalty for `critic` at the interpolates of `real` and `fake`."""
    mixed = mix(real, fake, alpha)
    return penalty_from(critic(mixed, labels, twice_differentiable=True), mixed)
