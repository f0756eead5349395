"""An exponential moving average of the generator's weights (`--ema`), the weights that sampling then uses.

With a large learning rate the trained weights jitter from step to step; their
running average is a smoother, better generator for free (Polyak averaging, as
in most modern generative models). The decay is ramped up as updates accumulate,
min(decay, (1 + t) / (10 + t)) after t updates, so that a short run is not
dominated by its random initial weights.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def decay_after(updates: int, decay: float) -> float:
    """The decay used for the update after `updates` earlier ones (ramped, capped at `decay`)."""
    return min(decay, (1 + updates) / (10 + updates))


class WeightAverage:
    """A moving average of `network`'s parameters, updated after each optimiser step of it."""

    def __init__(self, network: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"an EMA decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.averaged = AveragedModel(network, multi_avg_fn=self._update)
        self.averaged.requires_grad_(False)

    @property
    def module(self) -> nn.Module:
        """The averaged network itself (the same class as the trained one)."""
        return self.averaged.module

    @property
    def updates(self) -> int:
        """How many steps have been averaged (the first one copies the weights); set when resuming."""
        return int(self.averaged.n_averaged)

    @updates.setter
    def updates(self, count: int) -> None:
        self.averaged.n_averaged.fill_(count)

    def _update(self, averaged: list[torch.Tensor], current: list[torch.Tensor], count: torch.Tensor) -> None:
        # The count held on the host (no device sync): the updates already in the average.
        get_ema_multi_avg_fn(decay_after(self.updates, self.decay))(averaged, current, count)

    def update(self, network: nn.Module) -> None:
        """Fold `network`'s current parameters into the average."""
        self.averaged.update_parameters(network)
