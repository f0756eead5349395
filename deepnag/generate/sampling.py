"""From a checkpoint to synthetic gestures: load its generator and sample from a seeded latent."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from deepnag import checkpoint
from deepnag.data.preprocessing import MinMaxNormalizer
from deepnag.models import Generator, sample_latent


def load_generator(state: dict[str, Any], source: str, device: torch.device | str = "cpu") -> Generator:
    """The generator stored in a checkpoint, ready for sampling."""
    config = checkpoint.config_of(state)
    generator = Generator(len(state["class_names"]), int(state["num_features"]), config.latent_dim)
    try:
        generator.load_state_dict(state["generator"])
    except (RuntimeError, KeyError, TypeError) as error:
        raise checkpoint.CheckpointError(
            f"{source}: its generator weights do not fit this project's generator ({str(error).splitlines()[0][:160]})"
        ) from None
    return generator.to(device).eval()


def normalizer_from(state: dict[str, Any]) -> MinMaxNormalizer:
    """The checkpoint's normalisation factors (to map samples back to the data's units)."""
    norm = state["normalizer"]
    return MinMaxNormalizer(norm["minimum"].numpy(), norm["maximum"].numpy(), pen=norm.get("pen") is True)


GENERATE_BLOCK = 512
"""Samples run through the generator at once: bounds its activations' memory (10,240 samples took 6 GB at once)."""


def generate(generator: Generator, labels: torch.Tensor, length: int, seed: int, spread: float = 1.0) -> np.ndarray:
    """Samples for `labels` from a seeded latent N(0, spread²), in normalised units: (len(labels), length, D).

    `spread` 1 is the distribution the generator was trained on; more widens the samples' variety.
    """
    device = next(generator.parameters()).device
    stream = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        z = sample_latent(len(labels), length, generator.latent_dim, stream, device)
        z = z * spread if spread != 1.0 else z
        # In blocks: the GRUs' activations of thousands of samples at once took gigabytes. The draw is made whole
        # first, so a sample does not depend on the blocks (beyond float32 rounding of the matrix products).
        return torch.cat([generator(part, part_labels) for part, part_labels in
                          zip(torch.split(z, GENERATE_BLOCK), torch.split(labels.to(device), GENERATE_BLOCK))]).cpu().numpy()


def generate_in_units(generator: Generator, normalizer: MinMaxNormalizer, labels: torch.Tensor, length: int,
                      seed: int, spread: float = 1.0) -> np.ndarray:
    """Samples for `labels` in the data's units (the normaliser undone): (len(labels), length, D) float32."""
    return normalizer.inverse(generate(generator, labels, length, seed, spread)).astype(np.float32)


def generate_per_class(state: dict[str, Any], generator: Generator, per_class: int, seed: int,
                       spread: float = 1.0, classes: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` samples of every class (or of `classes`, indices into the checkpoint's) in the data's units:
    (C·K, n, D) float32 and labels (C·K,) int64."""
    chosen = torch.arange(len(state["class_names"])) if classes is None else torch.as_tensor(classes, dtype=torch.int64)
    labels = chosen.repeat_interleave(per_class)
    samples = generate_in_units(generator, normalizer_from(state), labels, int(state["seq_len"]), seed, spread)
    return samples, labels.numpy().astype(np.int64)
