"""The run configuration: one dataclass holding every flag and its default.

`deepnag.cli` builds it from the command line; everything else reads it. Flag
names follow the reference DeepNAG implementation.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

MODELS = ("DeepNAG", "DeepGAN")
DATASETS = ("dollar-gds", "jk2017-kinect", "jk2017-leap", "folder")
DOLLAR_GDS_SPEEDS = ("slow", "medium", "fast")
DEFAULT_EPOCHS = {"DeepNAG": 25_000, "DeepGAN": 150_000}
DEVICES = ("auto", "cpu", "cuda")
BEST_BY = ("loss", "tstr")
RECIPES: dict[str, dict[str, Any]] = {
    "reference": {},
    "fast": {"lr": 3e-3, "lr_warmup": 100, "ema": 0.999},
}
"""`--recipe`: training settings a recipe gives the flags the user leaves out (the reference's: none).

"fast" buys quality per minute of CPU with a 30x learning rate, warmed up over its
first steps, and samples from a moving average of the weights; benchmarks/time_to_quality.py
measures it against the reference's schedule (docs/findings/time-to-quality.md)."""
DURATION_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Config:
    """Every setting of a run; the single source of truth for flags and defaults."""

    # What to run.
    model: str = "DeepNAG"
    dataset: str = "dollar-gds"
    evaluate: str | None = None
    resume: str | None = None
    fresh_critic: bool = False
    generate: str | None = None
    # Data.
    datapath: str = "data"
    download_url: str | None = None
    speeds: tuple[str, ...] = ("medium",)
    subject_pattern: str = ""
    classes: tuple[str, ...] = ()
    max_per_class: int = 0
    subjects: tuple[str, ...] = ()  # the writers to train on (default: all) ...
    holdout_subjects: tuple[str, ...] = ()  # ... minus these ...
    train_subject_count: int = 0  # ... then a seeded choice of this many (0: all of them)
    chain_variants: int = 0  # chained variants of each training sample trained on beside it (0: none, the reference)
    # Model and optimisation.
    seed: int = 1234
    latent_dim: int = 32
    resample_n: int = 64
    gamma: float = 0.1  # soft-DTW smoothing of the loss and of the metrics (METHOD.md §3)
    diversity_weight: float = 1.0  # weight of the loss's diversity term against its fidelity term (the reference's: 1)
    recipe: str = "reference"  # a named set of defaults for the settings below (RECIPES)
    lr: float = 1e-4
    lr_warmup: int = 0  # optimiser steps of linear learning-rate warm-up (0: none)
    ema: float = 0.0  # decay of the moving average of the generator's weights that sampling uses (0: none)
    beta0: float = 0.5
    beta1: float = 0.9
    batch_size: int = 64
    epochs: int | None = None
    time_limit: float = 0.0  # seconds of training in this process, then a resumable checkpoint (0: no limit)
    deepgan_critic_iters: int = 5
    deepgan_lambda: float = 10.0
    # Runtime.
    device: str = "auto"
    num_threads: int = 0
    skip_nonfinite: bool = False
    amp: str = "none"
    # Monitoring and outputs.
    logdir: str = "logs"
    experiment_name: str = ""
    use_tensorboard: int = 1
    vis_frequency: int = 100
    checkpoint_frequency: int = 10_000
    restart_every: int = 1  # under torchrun: epochs between the checkpoint-last.pt a restarted worker group resumes from
    output: str | None = None
    show: bool = False
    num_per_class: int = 10
    synthesizer: str = "generator"  # what --generate samples: the checkpoint's generator, GPSR of real samples, or half of each
    num_per_sample: int = 8  # GPSR variants of every real sample
    format: str = "npz"
    metrics: bool = False
    eval_every: str = ""  # quality while training: "N" epochs or a duration ("10m"); "" never
    best_by: str = "loss"  # what checkpoint-best.pt is best at: the lowest loss, or the highest TSTR (--eval-every)

    @property
    def resolved_seed(self) -> int:
        """The seed a run uses: the flag, or for -1 a fresh random one (drawn here, the one place that does)."""
        return self.seed if self.seed != -1 else int.from_bytes(os.urandom(4), "little") >> 1

    @property
    def eval_interval(self) -> tuple[str, float] | None:
        """`eval_every` read: ("epochs", N) or ("seconds", S), or None when quality is not measured."""
        if not self.eval_every:
            return None
        if self.eval_every[-1].isdigit():
            return ("epochs", float(int(self.eval_every)))
        return ("seconds", float(self.eval_every[:-1]) * DURATION_UNITS[self.eval_every[-1].lower()])

    @property
    def num_epochs(self) -> int:
        """Epochs to train: the flag, or the model's default from the reference."""
        return self.epochs if self.epochs is not None else DEFAULT_EPOCHS[self.model]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Config":
        """Inverse of `to_dict`; unknown keys (from a newer version) are ignored."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        kept = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names}
        return cls(**kept)


def flag_text(value: Any) -> str:
    """A setting as it is written on the command line: `s02,s03` for a list, else str()."""
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def flag_or_saved(config: Config, explicit: set[str], saved: Config, name: str) -> Any:
    """An action on a checkpoint uses the checkpoint's setting `name` unless the user gave the flag."""
    return getattr(config if name in explicit else saved, name)


__all__ = ["Config", "BEST_BY", "RECIPES", "DURATION_UNITS", "MODELS", "DATASETS", "DOLLAR_GDS_SPEEDS", "DEFAULT_EPOCHS", "DEVICES", "flag_or_saved", "flag_text"]
