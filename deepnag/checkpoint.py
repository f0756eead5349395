"""Checkpoints: dictionaries of tensors and plain values, written atomically, loaded safely.

A checkpoint loads with `torch.load(path, weights_only=True)`: no pickled
classes, so opening one from a stranger cannot run code. It holds the networks'
weights, the normaliser factors, class names, the configuration, the epoch, the
best loss, RNG states, optimiser states and versions. A "generator" checkpoint
(for sharing) keeps only what generation needs; a "networks" one keeps every
network (DeepGAN's critic too) so that training can continue on another machine.
A DeepGAN release ships its critic as `critic.pt` beside `generator.pt` (each
under the repository's 10 MB file limit, where both together are not); resuming
that `generator.pt` joins the two into a "networks" checkpoint.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from deepnag._version import __version__
from deepnag.atomic import atomic_write
from deepnag.config import Config
from deepnag.errors import UserError

FORMAT = "deepnag-checkpoint"
FORMAT_VERSION = 1
TRAINING_GENERATOR = "training_generator"
"""The entry of the weights being trained when "generator" holds their moving average (--ema): a full
checkpoint has both; sharing keeps "generator", what sampling uses."""
REQUIRED = ("format", "format_version", "kind", "model", "dataset", "config", "class_names",
            "display_names", "normalizer", "num_features", "seq_len", "generator")


class CheckpointError(UserError):
    """A checkpoint is missing, damaged, foreign, or does not fit what was asked."""


def versions() -> dict[str, str]:
    """The versions that wrote a checkpoint, recorded for whoever opens it later."""
    return {"deepnag": __version__, "torch": str(torch.__version__)}


def save(state: dict[str, Any], path: str | Path) -> Path:
    """Write `state` to `path` atomically: a crash mid-write leaves the old file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda out: torch.save(state, out))


def load(path: str | Path, map_location: str | torch.device = "cpu", dataset: str | None = None) -> dict[str, Any]:
    """Load and check a checkpoint; every problem is a one-line CheckpointError.

    The original project's `checkpoint-best.tar` files are read too (with the
    allow-list of `_reference_globals`) and converted to a generator checkpoint of this project;
    they do not name their data set, so `dataset` must (the command line's --dataset).
    """
    path = Path(path)
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.pt")) + sorted(p.name for p in path.glob("checkpoints/*.pt"))
        hint = f"it holds {', '.join(found[:4])}{', …' if len(found) > 4 else ''}" if found else "it holds no .pt file"
        raise CheckpointError(f"checkpoint {path} is a folder, not a file; give a .pt file ({hint})")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; {_nearby(path)}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - foreign bytes make torch's reader raise almost anything (KeyError, …)
        unsafe = _unsafe_global(error) if isinstance(error, pickle.UnpicklingError) else None
        if unsafe == REFERENCE_NORMALIZER:
            return _from_reference(_load_reference(path, map_location), path, dataset)
        if unsafe:
            raise CheckpointError(
                f"{path} is not a DeepNAG checkpoint: it holds a pickled {unsafe}, which is refused "
                "because loading it could run code"
            ) from None
        raise CheckpointError(
            f"{path} is damaged, truncated or not a PyTorch checkpoint; give a .pt file that a DeepNAG run wrote"
        ) from None
    if isinstance(state, dict) and "format" not in state and {"model", "generator", "normalizer"} <= set(state):
        return _from_reference(state, path, dataset)  # a reference checkpoint whose normaliser is plain data
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a PyTorch file but not a DeepNAG checkpoint; give a .pt file that a DeepNAG run wrote")
    version = state.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{path} has a damaged format_version ({version!r}); it is not a usable checkpoint")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer DeepNAG (format {state['format_version']}); upgrade this project"
        )
    missing = [k for k in REQUIRED if k not in state]
    if missing:
        raise CheckpointError(f"{path} lacks {', '.join(missing)}; it is incomplete")
    _check_types(state, path)
    return state


_TYPES = {"kind": str, "model": str, "dataset": str, "config": dict, "class_names": list, "display_names": list,
          "normalizer": dict, "num_features": int, "seq_len": int, "generator": dict}


def _check_types(state: dict[str, Any], path: Path) -> None:
    """The entries every reader relies on have the types it expects (a hand-made or damaged file may not)."""
    wrong = [k for k, kind in _TYPES.items() if not isinstance(state[k], kind)]
    norm = state["normalizer"]
    if not wrong and not all(isinstance(norm.get(k), torch.Tensor) for k in ("minimum", "maximum")):
        wrong.append("normalizer")
    if not wrong and not all(isinstance(name, str) for name in state["class_names"]):
        wrong.append("class_names")
    if wrong:
        raise CheckpointError(f"{path} has a damaged {', '.join(wrong)}; it is not a usable checkpoint")


def _unsafe_global(error: Exception) -> str | None:
    """The refused global a weights-only load names (torch words it in two ways), if any."""
    found = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)", str(error))
    return found.group(1) if found else None


def _nearby(path: Path) -> str:
    """What to give instead of a missing checkpoint: a shipped model's generator.pt, or the folder's checkpoints."""
    folder = path.parent
    if folder.is_dir():
        found = sorted(p.name for p in folder.glob("*.pt"))
        if "generator.pt" in found:
            return f"this folder holds {folder / 'generator.pt'}, which the shipped models use instead of {path.name}"
        if found:
            return f"{folder} holds {', '.join(found[:4])}{', …' if len(found) > 4 else ''}"
    return "give the path of a .pt file in a run's checkpoints/ folder (or a shipped model's generator.pt)"


def full(
    config: Config,
    *,
    class_names: list[str],
    display_names: list[str],
    normalizer_minimum: Any,
    normalizer_maximum: Any,
    num_features: int,
    seq_len: int,
    epoch: int,
    best_loss: float,
    training_subjects: list[str],
    best_quality: float = float("-inf"),
    time_spent: float = 0.0,
    normalizer_pen: bool = False,
    networks: dict[str, dict[str, torch.Tensor]],
    optimizers: dict[str, Any],
    optimisation: dict[str, Any],
    rng: dict[str, Any],
    unfinished_epoch: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The layout of a "full" checkpoint: everything a resumed run needs, as tensors and plain values only."""
    state = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "full",
        "model": config.model,
        "dataset": config.dataset,
        "config": config.to_dict(),
        "class_names": list(class_names),
        "display_names": list(display_names),
        "normalizer": normalizer_state(normalizer_minimum, normalizer_maximum, normalizer_pen),
        "num_features": int(num_features),
        "seq_len": int(seq_len),
        "epoch": int(epoch),
        "best_loss": float(best_loss),
        "training_subjects": list(training_subjects),
        "best_quality": float(best_quality),  # the highest TSTR measured (--eval-every), for --best-by tstr
        "time_spent": float(time_spent),  # seconds of training so far under --time-limit (a torchrun restart goes on)
        "optimizers": optimizers,
        "optimisation": optimisation,  # learning-rate schedules, weight-average count
        "rng": rng,
        "versions": versions(),
    }
    if unfinished_epoch is not None:  # stopped between two steps of an epoch (the time limit): where to go on
        state["unfinished_epoch"] = unfinished_epoch
    state.update(networks)
    return state


def config_of(state: dict[str, Any]) -> Config:
    """The configuration a checkpoint was trained with (defaults fill what an older checkpoint lacks)."""
    return Config.from_dict(state["config"])


def training_subjects(state: dict[str, Any]) -> tuple[str, ...] | None:
    """The subjects whose samples trained the checkpoint's networks; None when it does not say (older files)."""
    names = state.get("training_subjects")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return tuple(names)


def generator_only(state: dict[str, Any]) -> dict[str, Any]:
    """What sharing a trained model needs: no optimiser, critic or RNG state."""
    kept = {k: v for k, v in state.items() if k not in ("optimizers", "optimisation", "critic", "rng", TRAINING_GENERATOR)}
    kept["kind"] = "generator"
    return kept


def networks_only(state: dict[str, Any]) -> dict[str, Any]:
    """Every network's weights without optimiser or RNG state: what continuing DeepGAN elsewhere needs."""
    kept = {k: v for k, v in state.items() if k not in ("optimizers", "optimisation", "rng")}
    kept["kind"] = "networks"
    return kept


CRITIC_FILE = "critic.pt"


def critic_only(state: dict[str, Any]) -> dict[str, Any]:
    """A DeepGAN checkpoint's critic alone, named by model, data set and epoch: what ships beside its generator."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": "critic", "model": state["model"],
            "dataset": state["dataset"], "epoch": int(state.get("epoch", 0)), "critic": state["critic"],
            "versions": versions()}


def with_critic_beside(state: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """A generator-only DeepGAN checkpoint joined with the `critic.pt` beside it (a release), as a networks one.

    Any other checkpoint, or one with no critic file beside it, comes back unchanged.
    """
    beside = Path(path).parent / CRITIC_FILE
    if state["kind"] != "generator" or state["model"] != "DeepGAN" or not beside.is_file():
        return state
    fresh = f"delete it to continue {path} with --fresh-critic instead"
    try:
        critic = torch.load(beside, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - as in load()
        raise CheckpointError(f"{beside} is damaged or truncated; {fresh}") from None
    if not isinstance(critic, dict) or critic.get("format") != FORMAT or critic.get("kind") != "critic" \
            or not isinstance(critic.get("critic"), dict):
        raise CheckpointError(f"{beside} is not a DeepGAN critic file of this project; {fresh}")
    theirs, ours = (critic.get("dataset"), critic.get("epoch")), (state["dataset"], int(state.get("epoch", 0)))
    if theirs != ours:
        raise CheckpointError(f"{beside} is the critic of {theirs[0]} at epoch {theirs[1]}, but {path} is {ours[0]} at "
                              f"epoch {ours[1]}; {fresh}")
    return {**state, "critic": critic["critic"], "kind": "networks", "critic_from": str(beside)}


def normalizer_state(minimum: Any, maximum: Any, pen: bool = False) -> dict[str, Any]:
    """The min-max normaliser's factors as float64 tensors (what `weights_only` loading accepts); `pen` only when
    set (the third feature is a pen state, seen by the generator as its stroke parity), so older files read the same."""
    state: dict[str, Any] = {"minimum": torch.as_tensor(minimum, dtype=torch.float64),
                             "maximum": torch.as_tensor(maximum, dtype=torch.float64)}
    return {**state, "pen": True} if pen else state


# The original project's checkpoints (`torch.save` of {"model", "generator", "optimizer", "normalizer"}, the
# normaliser a pickled `dataloader.utils.MinMaxNormalizer` holding NumPy `min` / `max` of shape (1, D)).

REFERENCE_NORMALIZER = "dataloader.utils.MinMaxNormalizer"
REFERENCE_LAYERS = {"gru1.": "grus.0.", "gru2.": "grus.1.", "gru3.": "grus.2.", "fc.0.": "head."}
"""The reference generator's layer names → this project's (the same GRU 128-256-512 and Linear + tanh)."""


class _ReferenceNormalizer:
    """Stands in for the reference's MinMaxNormalizer while unpickling: receives its attributes, runs nothing."""


def _reference_globals() -> list[Any]:
    """Exactly what a reference checkpoint needs besides tensors: its normaliser class and NumPy arrays."""
    import numpy as np

    reconstruct = np._core.multiarray._reconstruct if hasattr(np, "_core") else np.core.multiarray._reconstruct
    return [
        (_ReferenceNormalizer, REFERENCE_NORMALIZER),
        (reconstruct, "numpy.core.multiarray._reconstruct"),  # written by NumPy 1
        (reconstruct, "numpy._core.multiarray._reconstruct"),  # written by NumPy 2
        np.ndarray, np.dtype, type(np.dtype("float64")), type(np.dtype("float32")),
    ]


def _load_reference(path: Path, map_location: str | torch.device) -> dict[str, Any]:
    try:
        with torch.serialization.safe_globals(_reference_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        unsafe = _unsafe_global(error)
        what = f"a pickled {unsafe}" if unsafe else "pickled objects"
        raise CheckpointError(f"{path} looks like a checkpoint of the original DeepNAG project but holds {what}, "
                              "which is refused because loading it could run code") from None
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - as in load()
        raise CheckpointError(f"{path} is damaged or truncated; use another checkpoint") from None


def _from_reference(state: dict[str, Any], path: Path, dataset: str | None) -> dict[str, Any]:
    """A reference checkpoint as a generator checkpoint of this project (weights renamed, normaliser as tensors)."""
    from deepnag.data import READERS

    if dataset is None or dataset not in READERS or dataset == "folder":
        raise CheckpointError(f"{path} is a checkpoint of the original DeepNAG project, which does not record its data "
                              "set; give --dataset=dollar-gds, --dataset=jk2017-kinect or --dataset=jk2017-leap")
    model, weights, norm = state.get("model"), state.get("generator"), state.get("normalizer")
    minimum, maximum = getattr(norm, "min", None), getattr(norm, "max", None)
    if isinstance(norm, dict):
        minimum, maximum = norm.get("min"), norm.get("max")
    if model not in ("DeepNAG", "DeepGAN") or not isinstance(weights, dict) or minimum is None or maximum is None:
        raise CheckpointError(f"{path} looks like a checkpoint of the original DeepNAG project but lacks its model name, "
                              "generator weights or normaliser; it is damaged")
    renamed = {}
    for key, value in weights.items():
        key = key.removeprefix("module.")  # saved from inside DataParallel
        prefix = next((p for p in REFERENCE_LAYERS if key.startswith(p)), None)
        if prefix is None or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{path}: generator weight {key!r} is not one of the reference generator's; "
                                  "it is not a reference DeepNAG / DeepGAN checkpoint")
        renamed[REFERENCE_LAYERS[prefix] + key[len(prefix):]] = value
    reader = READERS[dataset]
    classes = list(reader.CLASSES)
    try:
        num_features = int(renamed["head.weight"].shape[0])
        latent_dim = int(renamed["grus.0.weight_ih_l0"].shape[1]) - len(classes)
        minimum, maximum = torch.as_tensor(minimum).reshape(1, -1), torch.as_tensor(maximum).reshape(1, -1)
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError):
        raise CheckpointError(f"{path}: the reference checkpoint's generator or normaliser is incomplete") from None
    expected = reader.NUM_FEATURES
    if latent_dim < 1 or num_features != expected or minimum.shape[1] != num_features or maximum.shape[1] != num_features:
        raise CheckpointError(f"{path} does not fit {dataset} ({len(classes)} classes of {expected} features; its "
                              f"generator writes {num_features}); give the --dataset it was trained on")
    config = Config(model=model, dataset=dataset, latent_dim=latent_dim)
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": "generator", "model": model, "dataset": dataset,
        "config": config.to_dict(), "class_names": classes,
        "display_names": list(getattr(reader, "DISPLAY_NAMES", classes)),
        "normalizer": normalizer_state(minimum, maximum), "num_features": num_features, "seq_len": config.resample_n,
        "generator": renamed, "epoch": 0, "best_loss": float("inf"), "versions": versions(),
        "source": f"original DeepNAG project: {path.name}",
    }
