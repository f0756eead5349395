"""The study's samples and trials: real and generated gestures per generator ("arm"), and each participant's plan.

Real samples of an arm come from the writers its generator did not train on (when its checkpoint records them), in
the data's units and resampled as the generator's own are; a sample goes to the browser as JSON that draws it as
`--evaluate` does: pen strokes as a trace (y down), skeletons as bones in the skeleton's view.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepnag import checkpoint, visualize
from deepnag.data.batches import GestureData, training_raw
from deepnag.data.mmg import strokes_of
from deepnag.data.preprocessing import is_pen_data
from deepnag.errors import UserError
from deepnag.generate.sampling import generate_per_class, load_generator, normalizer_from

log = logging.getLogger(__name__)

PER_CLASS = 12
"""Samples per class and arm in the pool the trials draw from: real ones (at most) and generated ones."""
DECIMALS = 3
"""Digits kept of each coordinate sent to the browser."""


@dataclass
class Pool:
    """What the trials show: per arm (one per generator) real and generated samples (S, n, D) with their labels."""

    dataset: str
    kind: str  # "pen", "skeleton" or "path"
    class_names: tuple[str, ...]
    arms: tuple[str, ...]  # a name per generator
    real: list[tuple[np.ndarray, np.ndarray]]  # per arm: samples, labels
    generated: list[tuple[np.ndarray, np.ndarray]]

    def save(self, path: Path) -> None:
        """Into one .npz (written once, when the study is created; a restart reads it back)."""
        arrays = {f"{part}_{what}_{i}": pair[j] for part, pairs in (("real", self.real), ("generated", self.generated))
                  for i, pair in enumerate(pairs) for j, what in enumerate(("samples", "labels"))}
        meta = {"dataset": self.dataset, "kind": self.kind, "class_names": self.class_names, "arms": self.arms}
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path: Path) -> "Pool":
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            pairs = {part: [(data[f"{part}_samples_{i}"], data[f"{part}_labels_{i}"]) for i in range(len(meta["arms"]))]
                     for part in ("real", "generated")}
        return cls(meta["dataset"], meta["kind"], tuple(meta["class_names"]), tuple(meta["arms"]), pairs["real"],
                   pairs["generated"])

    def sample(self, arm: int, truth: str, index: int) -> np.ndarray:
        return (self.real if truth == "real" else self.generated)[arm][0][index]


def arm_names(paths: Sequence[str], models: Sequence[str]) -> tuple[str, ...]:
    """A readable, distinct name per checkpoint: its model and its folder (DeepNAG dollar-gds-2-writers)."""
    names = [f"{model} {Path(path).resolve().parent.name}" for path, model in zip(paths, models)]
    return tuple(name if names.count(name) == 1 else f"{name} #{i + 1}" for i, name in enumerate(names))


def _loaded(paths: Sequence[str]) -> list[dict[str, Any]]:
    """The checkpoints, checked to share one data set and its classes."""
    states = [checkpoint.load(path) for path in paths]
    first = checkpoint.config_of(states[0])
    for path, state in zip(paths[1:], states[1:]):
        saved = checkpoint.config_of(state)
        if saved.dataset != first.dataset or list(state["class_names"]) != list(states[0]["class_names"]):
            raise UserError(f"{path} is a {saved.dataset} model of other classes than {paths[0]} ({first.dataset}): "
                            "a realism study compares generators of one data set")
    return states


def _real_for(state: dict[str, Any], path: str, datapath: str | None, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
    """Up to PER_CLASS real samples per class from the writers the checkpoint did not train on, in data units."""
    saved = checkpoint.config_of(state)
    raw = training_raw(saved.dataset, datapath or saved.datapath, speeds=saved.speeds, mmg_device=saved.mmg_device,
                       classes=tuple(state["class_names"]), download_url=saved.download_url,
                       subject_pattern=saved.subject_pattern)
    seen = checkpoint.training_subjects(state)
    unseen = [i for i, s in enumerate(raw.subjects) if seen is None or s not in seen]
    if not unseen or seen is None:
        log.warning("%s %s: its real samples come from every writer, some of them seen in training", path,
                    "does not record its training writers" if seen is None else "trained on every writer")
        unseen = list(range(len(raw.subjects)))
    labels = np.asarray(raw.labels)[unseen]
    chosen = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:PER_CLASS]
                             for c in range(len(raw.class_names))])
    kept = dataclasses.replace(raw, sequences=tuple(raw.sequences[unseen[i]] for i in chosen), labels=labels[chosen],
                               subjects=tuple(raw.subjects[unseen[i]] for i in chosen))
    data = GestureData.from_raw(kept, int(state["seq_len"]), normalizer=normalizer_from(state))
    return data.normalizer.inverse(data.samples.numpy()).astype(np.float32), data.labels.numpy()


def build_pool(paths: Sequence[str], datapath: str | None, seed: int) -> Pool:
    """Real and generated samples of every checkpoint's arm, drawn from `seed`."""
    states = _loaded(paths)
    saved = checkpoint.config_of(states[0])
    rng = np.random.default_rng(seed)
    real = [_real_for(state, path, datapath, rng) for path, state in zip(paths, states)]
    generated = [generate_per_class(state, load_generator(state, path), PER_CLASS, seed + i)
                 for i, (path, state) in enumerate(zip(paths, states))]
    skeleton = visualize.skeleton_of(saved.dataset)
    kind = "skeleton" if skeleton else "pen" if real[0][0].shape[-1] == 2 or is_pen_data(list(real[0][0])) else "path"
    arms = arm_names(paths, [checkpoint.config_of(s).model for s in states])
    return Pool(saved.dataset, kind, tuple(states[0]["class_names"]), arms, real, generated)


def _draws(pool: Pool, arm: int, truth: str, count: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """`count` trials of one arm and truth, their classes as even as `count` allows, each a random sample of its class."""
    labels = (pool.real if truth == "real" else pool.generated)[arm][1]
    classes = np.unique(labels)
    order = np.concatenate([rng.permutation(classes) for _ in range(-(-count // len(classes)))])[:count]
    return [{"arm": arm, "truth": truth, "class": int(c), "index": int(rng.choice(np.flatnonzero(labels == c)))}
            for c in order]


def plan(pool: Pool, trials: int, practice: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """A participant's trials: `practice` ones (real and generated alternating, random arms) then `trials` scored
    ones, per arm half real and half generated, shuffled. Each: arm, truth, class, index, practice."""
    arms = len(pool.arms)
    if trials % (2 * arms):
        raise UserError(f"--trials={trials} cannot be split evenly: with {arms} generator(s) it must be a multiple of "
                        f"{2 * arms} (half real, half generated per generator)")
    scored = [t for arm in range(arms) for truth in ("real", "generated")
              for t in _draws(pool, arm, truth, trials // (2 * arms), rng)]
    scored = [scored[i] for i in rng.permutation(len(scored))]
    warmup = [_draws(pool, int(rng.integers(arms)), ("real", "generated")[(i + int(rng.integers(2))) % 2], 1, rng)[0]
              for i in range(practice)]
    return [{**t, "practice": True} for t in warmup] + [{**t, "practice": False} for t in scored]


def _rounded(points: np.ndarray) -> list:
    return np.round(np.asarray(points, dtype=float), DECIMALS).tolist()


def sample_json(pool: Pool, sample: np.ndarray) -> dict[str, Any]:
    """A sample as the browser draws it. pen: `strokes`, polylines in drawing order, y down as the data has it;
    skeleton: `frames` (n, joints, 2) in the skeleton's view, centred, y up, and its `bones`; path: the first two
    features as one polyline, y up."""
    if pool.kind == "pen":
        strokes = strokes_of(sample) if sample.shape[-1] == 3 else [sample[:, :2]]
        return {"kind": "pen", "y_down": True, "strokes": [_rounded(s) for s in strokes]}
    skeleton = visualize.skeleton_of(pool.dataset)
    if pool.kind == "skeleton" and skeleton is not None:
        joints = sample.reshape(len(sample), skeleton.num_joints, 3)[..., list(skeleton.view)]
        return {"kind": "skeleton", "y_down": False, "frames": _rounded(joints - joints.mean(axis=(0, 1))),
                "bones": [list(b) for b in skeleton.bones]}
    return {"kind": "path", "y_down": False, "strokes": [_rounded(sample[:, :2])]}
