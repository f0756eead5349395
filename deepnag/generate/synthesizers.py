"""Every synthesizer by its one name: building blocks that compose over (count, seed), and the table of names.

A block draws `k` samples of every class, class-major, for a seed, from `Sources` (the real training samples, and
a checkpoint's generator for the blocks that use one):

- simple, from the real samples: `GPSR` (Taranta et al., UIST 2016) and `CHAIN` (GPSR, rotation, stretch;
  `deepnag.data.chain`);
- `GENERATOR`, the checkpoint's samples, and `VETTED`, those the training writers' 1-NN recogniser puts in their
  class (`deepnag.generate.vetting`);
- `mix(a, b, share)`: per class ⌊share·k⌋ of b's after the rest of a's, each drawn for the same seed;
- `then(a, b)`: one variant by simple block b of each of a's samples.

`SYNTHESIZERS` names the compositions `--synthesizer`, `deepnag.augment` and the docs offer. This module imports
no NumPy or torch at load (the command line's parser and the docs' CLI page read the table); blocks import what
they draw with when they draw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepnag.actions import flag

if TYPE_CHECKING:

    from deepnag.data import RawGestures
    from deepnag.models import Generator

Drawn = "tuple[np.ndarray, np.ndarray]"


@dataclass(frozen=True)
class Sources:
    """What blocks draw from: the real samples, the set's points per sample, and a checkpoint with its generator."""

    raw: RawGestures
    length: int
    state: dict[str, Any] | None = None
    generator: Generator | None = None

    @property
    def num_classes(self) -> int:
        return len(self.raw.class_names)


@dataclass(frozen=True)
class Block:
    """A way to draw `k` samples per class for a seed: `block(sources, k, seed)` → class-major samples, labels."""

    name: str
    draw: Callable[[Sources, int, int], Any]
    uses_generator: bool
    real: bool  # drawn from the real samples: resampled along its path to the set's length when mixed
    per_sample: Callable[..., Any] | None = None  # (sequences, labels, k, rng) → k variants of every sample
    variants: Callable[..., Any] | None = None  # (sequences, rng) → one variant of every sample (for `then`)
    parts: tuple[Block, Block] | None = None  # a mix's two blocks (the held-out study draws each once and shares)
    share: float = 0.0  # a mix's share of its second block

    def __call__(self, sources: Sources, k: int, seed: int) -> Any:
        return self.draw(sources, k, seed)


def _simple(name: str) -> Block:
    """GPSR or the chain: per class, per sample and one variant of each, all from `deepnag.data.<module>`."""

    def module() -> Any:
        from deepnag.data import chain, gpsr

        return {"gpsr": gpsr, "chain": chain}[name]

    def draw(sources: Sources, k: int, seed: int) -> Any:
        import numpy as np

        return module().per_class(sources.raw.sequences, sources.raw.labels, k, np.random.default_rng(seed),
                                  sources.num_classes)

    return Block(name, draw, uses_generator=False, real=True,
                 per_sample=lambda *args: module().per_sample(*args), variants=lambda *args: module().variants(*args))


def _generated(sources: Sources, k: int, seed: int) -> Any:
    from deepnag.generate.sampling import generate_per_class

    return generate_per_class(sources.state, sources.generator, k, seed)


def _vetted(sources: Sources, k: int, seed: int) -> Any:
    from deepnag.generate.vetting import vetted_half

    return vetted_half(sources.state, sources.generator, k, seed, sources.raw)


GPSR = _simple("gpsr")
CHAIN = _simple("chain")
GENERATOR = Block("generator", _generated, uses_generator=True, real=False)
VETTED = Block("vetted", _vetted, uses_generator=True, real=False)


def mix(a: Block, b: Block, share: float = 0.5) -> Block:
    """Per class k − ⌊share·k⌋ of a's samples, then ⌊share·k⌋ of b's, each drawn for the same seed; real samples
    resampled along their path to the set's length."""

    def draw(sources: Sources, k: int, seed: int) -> Any:
        import numpy as np

        from deepnag.data.preprocessing import resample

        taken = int(share * k)
        parts = []
        for block, n in ((a, k - taken), (b, taken)):
            if n:
                samples, _ = block(sources, n, seed)
                if block.real:
                    samples = resample(list(samples), sources.length).astype(np.float32)
                parts.append(samples.reshape(sources.num_classes, n, *samples.shape[1:]))
        samples = np.concatenate(parts, axis=1)
        return samples.reshape(-1, *samples.shape[2:]), np.repeat(np.arange(sources.num_classes), k)

    return Block(f"mix({a.name}, {b.name}, {share:g})", draw, a.uses_generator or b.uses_generator, real=False,
                 parts=(a, b), share=share)


def then(a: Block, b: Block) -> Block:
    """One variant by the simple block `b` of each of `a`'s samples (a stream of its own: [seed, 2])."""
    if b.variants is None:
        raise ValueError(f"then(…, {b.name}): {b.name} is not a simple block")

    def draw(sources: Sources, k: int, seed: int) -> Any:
        import numpy as np

        samples, labels = a(sources, k, seed)
        return b.variants(list(samples), np.random.default_rng([seed, 2])), labels

    return Block(f"then({a.name}, {b.name})", draw, a.uses_generator, real=True)


COUNTS = {"num_per_class": "--num-per-class samples of every class",
          "num_per_sample": "--num-per-sample variants of every real sample"}
"""The two ways of saying how many samples a synthesizer writes."""


@dataclass(frozen=True)
class Synthesizer:
    """One name of `--synthesizer`: what it composes, what it writes, and whether --metrics measures it."""

    name: str
    block: Block
    help: str
    count: str  # num_per_class, or num_per_sample for the simple blocks applied to every real sample
    why_not: str | None = None  # why --metrics does not measure it (None: it does)

    @property
    def needs_checkpoint(self) -> bool:
        return self.block.uses_generator

    def refused(self, values: Mapping[str, Any], explicit: set[str]) -> str | None:
        """Why generate's flags do not go with this synthesizer (None when they do)."""
        named = f"--synthesizer={self.name}"
        if self.needs_checkpoint and not values["generate"]:
            return f"{named} needs --generate=CHECKPOINT ({self.help})"
        if values["metrics"] and self.why_not is not None:
            return self.why_not
        other = ({"num_per_class", "num_per_sample"} - {self.count}).pop()
        if other in explicit and not (other == "num_per_class" and values["metrics"]):
            return f"{flag(other)} does not go with {named}, which writes {COUNTS[self.count]}"
        return None


def _rows_instead(name: str) -> str:
    return (f"--metrics measures the generator, and its '{name}' rows are this mix: drop --synthesizer={name} "
            "to run it")


SYNTHESIZERS: Mapping[str, Synthesizer] = {s.name: s for s in (
    Synthesizer("generator", GENERATOR, "the --generate checkpoint's generator", "num_per_class"),
    Synthesizer("gpsr", GPSR, "stochastic resampling of real samples (Taranta et al. 2016): the baseline to compare "
                "with", "num_per_sample",
                "--metrics measures a generator; --generate=CHECKPOINT --metrics reports GPSR beside it"),
    Synthesizer("chain", CHAIN, "GPSR, then a random rotation and stretch (deepnag/data/chain.py)", "num_per_sample",
                "--metrics measures a generator; --generate=CHECKPOINT --metrics reports the chain beside it"),
    Synthesizer("mix", mix(GPSR, GENERATOR), "per class half the generator's samples, half GPSR of its training "
                "samples", "num_per_class", _rows_instead("mix")),
    Synthesizer("chain-mix", mix(CHAIN, GENERATOR), "per class half the generator's samples, half chained variants "
                "of its training samples", "num_per_class", _rows_instead("chain-mix")),
    Synthesizer("vetted-chain-mix", mix(CHAIN, VETTED), "as chain-mix, the generator's half only samples that a "
                "1-NN recogniser of its training samples puts in their class (deepnag/generate/vetting.py; a class "
                "short of them gets more chained variants)", "num_per_class",
                _rows_instead("vetted-chain-mix")),
)}
"""`--synthesizer`, `deepnag.augment`'s methods (those without a generator), the held-out study's rows and the docs:
each name once."""

FORMER_NAMES = {"both": "mix", "chain+generator": "chain-mix", "chain+vetted": "vetted-chain-mix"}
"""What the held-out study called the mixes before they had one name; its readers map results written then."""

__all__ = ["CHAIN", "COUNTS", "FORMER_NAMES", "GENERATOR", "GPSR", "SYNTHESIZERS", "VETTED", "Block", "Sources", "Synthesizer", "mix",
           "then"]
