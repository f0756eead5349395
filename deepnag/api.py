"""The Python API: open a trained checkpoint and draw gestures from it, in the data's own units.

    import deepnag
    generator = deepnag.load_generator("pretrained_models/DeepNAG/dollar-gds/generator.pt")
    stars = generator.sample("star", n=16, seed=0)        # (16, 64, 2) float32, $1-GDS pixels

Loading goes through the same checks as the command line: a file that is not a
checkpoint of this project is a one-line `deepnag.errors.UserError`, and nothing
in it runs code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from deepnag import checkpoint
from deepnag.errors import UserError
from deepnag.generate.sampling import generate_in_units, normalizer_from
from deepnag.generate.sampling import load_generator as _network_from
from deepnag.runtime import resolve_device


class GestureGenerator:
    """A trained generator with what sampling it needs: class names, feature count, normaliser, length."""

    def __init__(self, state: dict, source: str, device: str = "cpu") -> None:
        self.source = source
        self.model: str = state["model"]
        self.dataset: str = state["dataset"]
        self.class_names: tuple[str, ...] = tuple(state["class_names"])
        self.num_features: int = int(state["num_features"])
        self.seq_len: int = int(state["seq_len"])
        self.epoch: int | None = state.get("epoch")
        self.device = resolve_device(device)
        self._network = _network_from(state, source, self.device)
        self._normalizer = normalizer_from(state)
        self._state = state

    def labels_of(self, classes: str | Sequence[str] | None) -> list[int]:
        """Class indices of `classes` (names); None means every class. Unknown names are a one-line error."""
        if classes is None:
            return list(range(len(self.class_names)))
        names = [classes] if isinstance(classes, str) else list(classes)
        if not names:
            raise UserError("sample() needs at least one class name")
        unknown = [name for name in names if name not in self.class_names]
        if unknown:
            raise UserError(f"{self.source} has no class {', '.join(map(repr, unknown))}; "
                            f"its classes are {', '.join(self.class_names)}")
        return [self.class_names.index(name) for name in names]

    def sample(self, classes: str | Sequence[str] | None = None, n: int = 1, seed: int = 0) -> np.ndarray:
        """`n` gestures of each class, float32 in the data's units; the same seed gives the same gestures.

        One class name gives an array (n, seq_len, num_features); a list of names
        (or None, every class) gives (len(classes), n, seq_len, num_features).
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise UserError(f"sample() needs n >= 1 gestures per class, got {n!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise UserError(f"sample() needs a seed >= 0, got {seed!r}")
        indices = self.labels_of(classes)
        labels = torch.tensor(indices).repeat_interleave(int(n))
        samples = generate_in_units(self._network, self._normalizer, labels, self.seq_len, int(seed))
        samples = samples.reshape(len(indices), int(n), self.seq_len, self.num_features)
        return samples[0] if isinstance(classes, str) else samples

    def synthesize(self, name: str, sequences: Sequence[np.ndarray], labels: Sequence[int] | np.ndarray, n: int = 1,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """`n` samples of every class by the synthesizer `name` (any of `--synthesizer`'s), drawn from this generator
        and the real `sequences` (data units, labelled with this generator's class indices).

        Returns class-major samples (classes · n, seq_len, num_features) float32 and their labels. Given the
        checkpoint's training samples and its seed, a mix is what `--generate --synthesizer=NAME` writes.
        """
        from deepnag.data import RawGestures
        from deepnag.generate.synthesizers import SYNTHESIZERS, Sources

        if name not in SYNTHESIZERS:
            raise UserError(f"synthesize() has no synthesizer {name!r}; known: {', '.join(SYNTHESIZERS)}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise UserError(f"synthesize() needs n >= 1 samples per class, got {n!r}")
        arrays = tuple(np.asarray(s) for s in sequences)  # as given: the CLI's mixes draw from the loaders' arrays
        labels = np.asarray(labels, dtype=np.int64)
        if any(a.ndim != 2 or a.shape[1] != self.num_features or a.dtype.kind != "f" for a in arrays):
            raise UserError(f"synthesize() needs float sequences of shape (T, {self.num_features})")
        if labels.shape != (len(arrays),) or not len(arrays) or not set(labels) <= set(range(len(self.class_names))):
            raise UserError(f"synthesize() needs one label per sequence, each a class index below "
                            f"{len(self.class_names)}")
        raw = RawGestures(arrays, labels, self.class_names, self.class_names, ("real",) * len(arrays))
        sources = Sources(raw, self.seq_len, self._state, self._network)
        block = SYNTHESIZERS[name].block
        samples, out_labels = block(sources, int(n), int(seed))
        if block.real:  # drawn from the real samples: along their path to the generator's length, as a mix has them
            from deepnag.data.preprocessing import resample

            samples = resample(list(samples), self.seq_len)
        return np.asarray(samples, dtype=np.float32), np.asarray(out_labels, dtype=np.int64)

    def __repr__(self) -> str:
        return (f"GestureGenerator({self.model} on {self.dataset}: {len(self.class_names)} classes, "
                f"{self.num_features} features, {self.seq_len} points, from {self.source})")


def load_generator(path: str | Path, device: str = "cpu", dataset: str | None = None) -> GestureGenerator:
    """Open a checkpoint (`generator.pt`, or any checkpoint a run wrote) for sampling from Python.

    `dataset` is needed only for the original project's `checkpoint-best.tar` files, which do not record it.
    """
    state = checkpoint.load(path, dataset=dataset)
    return GestureGenerator(state, str(path), device)


def augment(sequences: Sequence[np.ndarray], labels: Sequence[int] | np.ndarray, k: int = 1, method: str = "chain",
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`k` variants of every real sample by a simple synthesizer, no model needed: "gpsr", or "chain" (GPSR, then a
    random rotation and a stretch along each axis; `deepnag.data.chain`), as `--synthesizer` writes them.

    `sequences`: arrays (T_i, D) in any units (2D strokes, or skeleton frames of joints × xyz); returns samples
    (N·k, 32, D) float32 in the same units and their labels (variants of sample i are rows i·k … i·k + k − 1).
    """
    from deepnag.generate.synthesizers import SYNTHESIZERS

    makers = {name: s.block.per_sample for name, s in SYNTHESIZERS.items() if s.count == "num_per_sample"}
    if method not in makers:
        raise UserError(f"augment's method must be one of {sorted(makers)}; got {method!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise UserError(f"augment's k must be a positive integer; got {k!r}")
    arrays = [np.asarray(s, dtype=np.float64) for s in sequences]
    if not arrays or any(a.ndim != 2 or len(a) < 2 for a in arrays) or len({a.shape[1] for a in arrays}) != 1:
        raise UserError("augment needs one or more sequences of shape (T >= 2, D), all with the same D")
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (len(arrays),):
        raise UserError(f"augment needs one label per sequence ({len(arrays)}); got shape {labels.shape}")
    samples, out_labels = makers[method](arrays, labels, int(k), np.random.default_rng(seed))
    return samples.astype(np.float32), out_labels


class Study:
    """A held-out-writer study: `result` as `--metrics=study` writes it under "augmentation", `table` as it prints
    it, `figure()` the errors per recogniser (`deepnag.visualize.study_figure`)."""

    def __init__(self, result: dict, source: str) -> None:
        self.result = result
        self.source = source

    @property
    def table(self) -> str:
        from deepnag.evaluation import augmentation

        return augmentation.table(self.result)

    def figure(self) -> Any:
        """A matplotlib Figure of the study, one panel per recogniser."""
        from deepnag import visualize

        return visualize.study_figure(self.result, title=f"held-out writers · {Path(self.source).name}")


def study(path: str | Path, recognizer: Any = None, *, datapath: str | Path = "data", seeds: int = 5,
          counts: Sequence[int] = (8, 32, 160), learned: bool = False, workers: int | None = None) -> Study:
    """The held-out-writer study of a checkpoint trained on some writers (`--metrics=study`), for `recognizer`.

    `recognizer`: any scikit-learn-style classifier whose fit(X, y) and predict(X) take lists of (T, D) arrays (a
    fresh copy per fit, its `random_state` set to each seed when it has one), or a function of a seed that makes one.
    It is measured beside the 1-NN recogniser (and the GRU with `learned`), over `seeds` sampling seeds, with k of
    `counts` synthetic samples per class added to the seen writers' real ones, tested on the writers the checkpoint
    did not see. `workers`: processes for the fits (default one per core; 1 runs them here, for recognisers that
    cannot be sent to another process). A recogniser that fails is a one-line `UserError` naming it.
    """
    from deepnag.evaluation import report
    from deepnag.generate.sampling import generate_per_class
    from deepnag.recognition import interface

    state = checkpoint.load(Path(path))
    saved = checkpoint.config_of(state)
    generator = _network_from(state, str(path), resolve_device("cpu"))
    recognizers = {} if recognizer is None else {interface.name_of(recognizer): interface.checked(recognizer)}
    samples, labels = generate_per_class(state, generator, 10, saved.seed)
    result = report.held_out(state, report.real_data(state, datapath), saved.max_per_class, generator, samples, labels,
                             saved.seed, runs=seeds, vetted=True, learned=learned, recognizers=recognizers,
                             counts=counts, workers=workers)
    failed = [other["failed"] for other in result.get("more", ()) if "failed" in other]
    if failed:
        raise UserError(failed[0])
    return Study(result, str(path))


__all__ = ["GestureGenerator", "Study", "augment", "load_generator", "study"]
