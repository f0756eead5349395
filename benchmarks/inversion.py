"""Generation near given samples: find each sample's latent by optimisation, then sample around it.

So the synthetic variation follows the style of the writers whose samples are
given, where sampling the latent's prior follows the training set as a whole.
The latent of a sample x of class c is argmin_z mean‖G(z, c) − x‖² + λ·mean z²
over the point-wise error of x resampled to the generator's length and
normalised (Adam; the prior term keeps z where the generator was trained);
neighbours are then G(z + spread·ε, c) with ε ~ N(0, 1).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from deepnag.data.gpsr import class_major_sources
from deepnag.data.preprocessing import MinMaxNormalizer, resample
from deepnag.models import Generator, sample_latent

log = logging.getLogger(__name__)

STEPS = 200
"""Adam steps of the latent search."""
LEARNING_RATE = 0.05
PRIOR = 0.01
"""λ: the weight of the latent's N(0, 1) prior against the reconstruction error."""
SPREAD = 0.5
"""The neighbours' latent noise, in units of the prior's standard deviation."""


def invert(generator: Generator, targets: torch.Tensor, labels: torch.Tensor, seed: int = 0,
           steps: int = STEPS, prior: float = PRIOR) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents z (B, n, latent) whose G(z, labels) reproduce `targets` (B, n, D, normalised), and each one's error.

    The error is the final mean squared point-wise error per sample (B,), in normalised units.
    """
    device = next(generator.parameters()).device
    stream = torch.Generator(device=device).manual_seed(seed)
    z = sample_latent(len(targets), targets.shape[1], generator.latent_dim, stream, device).requires_grad_(True)
    optimiser = torch.optim.Adam([z], lr=LEARNING_RATE)
    targets, labels = targets.to(device), labels.to(device)
    was_training = generator.training
    generator.eval()
    try:
        for _ in range(steps):  # gradients of the latent only: the network's weights stay as they are
            error = ((generator(z, labels) - targets) ** 2).mean(dim=(1, 2))
            (z.grad,) = torch.autograd.grad(error.sum() + prior * (z**2).mean(dim=(1, 2)).sum(), z)
            optimiser.step()
        with torch.no_grad():
            error = ((generator(z, labels) - targets) ** 2).mean(dim=(1, 2))
    finally:
        generator.train(was_training)
    return z.detach(), error


class Neighbourhood:
    """The latents of given samples (found once), to sample neighbours of them for any count and seed."""

    def __init__(self, generator: Generator, normalizer: MinMaxNormalizer, sequences: Sequence[np.ndarray],
                 labels: np.ndarray, num_classes: int, seq_len: int, seed: int = 0, steps: int = STEPS) -> None:
        self.generator, self.normalizer = generator, normalizer
        self.labels = np.asarray(labels, dtype=np.int64)
        self.num_classes = num_classes
        class_major_sources(self.labels, 1, num_classes, "Neighbourhood", "sample")  # every class needs a sample
        targets = torch.as_tensor(normalizer.transform(resample(sequences, seq_len)), dtype=torch.float32)
        self.latents, self.error = invert(generator, targets, torch.as_tensor(self.labels), seed, steps)
        log.info("latent search: mean squared error %.4f (normalised units) over %d samples",
                 float(self.error.mean()), len(self.labels))

    def per_class(self, per_class: int, seed: int, spread: float = SPREAD) -> tuple[np.ndarray, np.ndarray]:
        """`per_class` neighbours of every class, class-major, in the data's units: (C·K, n, D) float32, labels.

        Neighbour j of a class is near its sample j mod r (r samples of that class), as GPSR's `per_class` spreads them.
        """
        source, _ = class_major_sources(self.labels, per_class, self.num_classes, "Neighbourhood", "sample")
        device = self.latents.device
        stream = torch.Generator(device=device).manual_seed(seed)
        noise = sample_latent(len(source), self.latents.shape[1], self.generator.latent_dim, stream, device)
        with torch.no_grad():
            out = self.generator(self.latents[torch.as_tensor(source)] + spread * noise,
                                 torch.as_tensor(self.labels[source]).to(device))
        return self.normalizer.inverse(out.cpu().numpy()).astype(np.float32), self.labels[source]


__all__ = ["invert", "Neighbourhood"]
