"""The networks (METHOD.md §2 and §5): the generator (shared by DeepNAG and DeepGAN) and DeepGAN's critic.

Plain `nn.Module`s holding layers only; training lives in `deepnag/train/methods.py`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

GENERATOR_UNITS = (128, 256, 512)
CRITIC_UNITS = (512, 256, 128)


def condition(x: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Append the one-hot class label to every time step: (B, n, F) → (B, n, F + C)."""
    one_hot = (labels[:, None] == torch.arange(num_classes, device=labels.device)).to(x.dtype)  # no device sync
    return torch.cat([x, one_hot[:, None, :].expand(-1, x.shape[1], -1)], dim=-1)


class Generator(nn.Module):
    """z (B, n, latent) and labels (B,) → gestures (B, n, D) in [-1, 1].

    Three stacked single-layer GRUs (128, 256, 512 units), Linear(512 → D), tanh.
    """

    def __init__(self, num_classes: int, num_features: int, latent_dim: int = 32) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.latent_dim = latent_dim
        sizes = (latent_dim + num_classes, *GENERATOR_UNITS)
        self.grus = nn.ModuleList(nn.GRU(i, o, batch_first=True) for i, o in zip(sizes, sizes[1:]))
        self.head = nn.Linear(GENERATOR_UNITS[-1], num_features)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = condition(z, labels, self.num_classes)
        for gru in self.grus:
            x, _ = gru(x)
        return torch.tanh(self.head(x))


def sample_latent(
    batch: int, length: int, latent_dim: int, generator: torch.Generator, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Latent noise N(0, 1), independent for every sample and time step: (batch, length, latent_dim)."""
    return torch.randn(batch, length, latent_dim, generator=generator, device=device)


class DifferentiableGRU(nn.GRU):
    """A single-layer, batch-first `nn.GRU` that can also be differentiated twice, as WGAN-GP's penalty needs.

    cuDNN's GRU backward cannot itself be differentiated, so on CUDA a pass marked
    `twice_differentiable` runs ATen's fused GRU cells (whose backward is built from
    differentiable operations) and every other pass runs cuDNN. On the CPU the
    recurrence is unrolled in tensor operations here, which measured as fast as ATen's.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size, batch_first=True)

    def forward(  # type: ignore[override]
        self, x: torch.Tensor, twice_differentiable: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, I) → (outputs (B, T, H), last hidden state (1, B, H)), as nn.GRU."""
        if not x.is_cuda:
            return self._unrolled(x)
        if not twice_differentiable:
            return super().forward(x)
        with _cudnn_disabled():
            return super().forward(x)

    def _unrolled(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # All time steps' input projections at once, split with one unbind: its backward is one
        # stack, where indexing inputs[:, t] would add a full-size zero gradient per step.
        inputs = F.linear(x, self.weight_ih_l0, self.bias_ih_l0).unbind(1)
        h = x.new_zeros(x.shape[0], self.hidden_size)
        outputs = []
        for step in inputs:  # the recurrence itself is sequential
            h = self._cell(step, h)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h[None]

    def _cell(self, input_gates: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One time step of nn.GRU's recurrence, from that step's input projection (B, 3H) and the state h (B, H)."""
        gi_r, gi_z, gi_n = input_gates.chunk(3, dim=1)
        gh_r, gh_z, gh_n = F.linear(h, self.weight_hh_l0, self.bias_hh_l0).chunk(3, dim=1)
        r = torch.sigmoid(gi_r + gh_r)
        z = torch.sigmoid(gi_z + gh_z)
        n = torch.tanh(gi_n + r * gh_n)
        return n + z * (h - n)


@contextlib.contextmanager
def _cudnn_disabled() -> Iterator[None]:
    """cuDNN off for the enclosed operations, restored afterwards."""
    previous = torch.backends.cudnn.enabled
    torch.backends.cudnn.enabled = False
    try:
        yield
    finally:
        torch.backends.cudnn.enabled = previous


class Critic(nn.Module):
    """DeepGAN's critic: (x (B, n, D), labels) → score (B,).

    concat(x, one-hot labels) → GRUs of 512, 256, 128 units (double-backward
    capable) → Linear(128 → 1) on the last time step.
    """

    def __init__(self, num_classes: int, num_features: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        sizes = (num_features + num_classes, *CRITIC_UNITS)
        self.grus = nn.ModuleList(DifferentiableGRU(i, o) for i, o in zip(sizes, sizes[1:]))
        self.head = nn.Linear(CRITIC_UNITS[-1], 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor, twice_differentiable: bool = False) -> torch.Tensor:
        """Scores; `twice_differentiable` for a pass whose gradient is itself differentiated (the penalty's)."""
        h = condition(x, labels, self.num_classes)
        for gru in self.grus:
            h, _ = gru(h, twice_differentiable)
        return self.head(h[:, -1]).squeeze(-1)
