"""Synthetic samples for real use (`python main.py --generate=CHECKPOINT --output=PATH`), or GPSR's of real ones.

`--synthesizer=NAME` writes the samples of a synthesizer of `deepnag.generate.synthesizers`: the simple ones (gpsr,
chain) of the real samples a checkpoint trained on (with `--generate`), else of those the data flags select; the
mixes per class from the checkpoint's generator and training samples.

Always `PATH.npz` (`samples` float32 (N, n, D) in the data's units, `labels`
int64 (N,), `class_names` unicode (C,); loads with `allow_pickle=False`). With
`--format native` also a folder `PATH/` in the data set's own format, readable by
this project's loaders: $1-GDS XML (`PATH/dollar_gds/xml_logs/synthetic/medium/`),
JK2017 text files (`PATH/jk2017/<kinect or leap_motion>/training/Sub_synthetic/<class>/`), or for a
folder data set the same CSV layout (`PATH/<class>/synthetic_001.csv`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from deepnag import checkpoint
from deepnag.actions import ACTIONS
from deepnag.atomic import atomic_write, cannot_write, writable_folder
from deepnag.config import Config, conflict, flag_or_saved
from deepnag.data import RawGestures, native_file
from deepnag.data.batches import training_raw_for
from deepnag.errors import UserError
from deepnag.generate.sampling import generate_per_class, load_generator
from deepnag.generate.synthesizers import GENERATOR, SYNTHESIZERS, Sources
from deepnag.models import Generator
from deepnag.runtime import resolve_device

log = logging.getLogger(__name__)

SYNTHETIC_SUBJECT = "synthetic"


def npz_path(output: str | Path) -> Path:
    path = Path(output)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def write_npz(path: Path, samples: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> Path:
    """Atomically write the portable archive (no pickled objects)."""
    return atomic_write(path, lambda out: np.savez(
        out, samples=samples.astype(np.float32), labels=labels.astype(np.int64),
        class_names=np.array(list(class_names), dtype=np.str_)))


def write_native(folder: Path, dataset: str, samples: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> Path:
    """The data set's own file layout under `folder`, written to a staging folder then renamed into place."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as error:
        raise cannot_write(folder, error) from None
    staging.chmod(folder.parent.stat().st_mode & 0o777)  # the permissions of the folder it lies in, not mkdtemp's 0700
    try:
        counters = np.zeros(len(class_names), dtype=int)
        for sample, label in zip(samples, labels):  # one file per sample: file I/O, not a hot path
            counters[label] += 1
            relative, text = native_file(dataset, class_names[label], int(counters[label]), sample,
                                         SYNTHETIC_SUBJECT)
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except OSError as error:
        raise cannot_write(folder, error) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def metrics_path(output: Path) -> Path:
    """Where --metrics of a --generate set goes: PATH.metrics.json beside PATH.npz."""
    return output.with_name(output.stem + ".metrics.json")


def _ours(path: Path) -> bool:
    """Whether `path` is a set this program wrote (an npz of exactly samples, labels and class_names)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return set(archive.files) == {"samples", "labels", "class_names"}
    except Exception:  # not an npz at all, or unreadable: not ours either way
        return False


def _check_output(path: Path) -> None:
    writable_folder(path.parent, "create it or choose another --output", target=path)
    if path.exists() and not (path.is_file() and _ours(path)):  # replace only a set written here before
        raise UserError(f"--output={path.with_suffix('')} would replace {path}, which this program did not write; "
                        f"give a new name such as {path.with_name(path.stem + '-synthetic')}")
    folder = path.with_suffix("")
    if folder.is_dir() and not path.is_file():  # a folder of the user's, not the native files of an earlier set
        raise UserError(f"--output={folder} is an existing folder; --output names the set to write ({folder}.npz, "
                        f"and {folder}/ with --format native): give a new name such as {folder / 'synthetic'}")


def _write(output: Path, config: Config, dataset: str, samples: np.ndarray, labels: np.ndarray,
           class_names: Sequence[str]) -> list[Path]:
    """PATH.npz, and with --format native the data set's own files beside it; the paths written.

    A set written here before is replaced as a whole: its native folder and metrics go when this one has none,
    so that nothing of another checkpoint's set stays beside the new one.
    """
    written = [write_npz(output, samples, labels, class_names)]
    folder, metrics = output.with_suffix(""), metrics_path(output)
    stale = [p for p, kept in ((folder, config.format == "native"), (metrics, config.metrics)) if not kept and p.exists()]
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    if stale:
        log.warning("replaced the earlier set at %s as a whole: removed %s", output, ", ".join(map(str, stale)))
    if config.format == "native":
        written.append(write_native(folder, dataset, samples, labels, class_names))
    return written


def _checkpoint_of(config: Config, explicit: set[str]) -> dict:
    """The --generate checkpoint (--dataset, when given, names the data set of an original-project file)."""
    return checkpoint.load(config.generate, dataset=config.dataset if "dataset" in explicit else None)


@dataclasses.dataclass(frozen=True)
class Generated:
    """What --generate wrote, and what it sampled from (for --metrics: `deepnag.evaluation.report.measure_generated`)."""

    written: list[Path]
    output: Path
    state: dict[str, Any]
    generator: Generator
    samples: np.ndarray
    labels: np.ndarray


def generate_command(config: Config, explicit: set[str]) -> Generated:
    """The --generate action: sample a checkpoint and write the files."""
    source = Path(config.generate)
    output = npz_path(config.output)
    _check_output(output)
    state = _checkpoint_of(config, explicit)
    saved = _agreed(config, explicit, state)
    seed = flag_or_saved(config, explicit, saved, "seed")
    class_names = list(state["class_names"])
    chosen = _chosen_classes(config, explicit, class_names)
    device = resolve_device(config.device)
    generator = load_generator(state, str(source), device)
    samples, labels = generate_per_class(state, generator, config.num_per_class, seed, classes=chosen)
    written = _write(output, config, saved.dataset, samples, labels, class_names)
    for path in written:
        log.info("wrote %s (%d samples, %d per class)", path, len(samples), config.num_per_class)
    return Generated(written, output, state, generator, samples, labels)


def _agreed(config: Config, explicit: set[str], state: dict) -> Config:
    """The --generate checkpoint's configuration, once the flags given agree with it (but those --generate may change)."""
    saved = checkpoint.config_of(state)
    if why := conflict(config, explicit, saved, ACTIONS["generate"].may_differ or (), config.generate, "--generate"):
        raise UserError(why)
    return saved


def _chosen_classes(config: Config, explicit: set[str], class_names: Sequence[str]) -> list[int] | None:
    """The checkpoint's classes --classes picks, as indices (None: every class); an unknown name is a one-line error."""
    if "classes" not in explicit or not config.classes:
        return None
    if unknown := [name for name in config.classes if name not in class_names]:
        raise UserError(f"unknown class(es) {', '.join(unknown)} in --classes; {config.generate} generates "
                        f"{', '.join(class_names)}")
    chosen = [list(class_names).index(name) for name in dict.fromkeys(config.classes)]
    if config.metrics and chosen != list(range(len(class_names))):
        raise UserError("--metrics measures a set of every class against the real samples of every class: "
                        "leave out --classes, or --metrics")
    return chosen


def _training_raw_of(state: dict, config: Config, explicit: set[str]) -> tuple[Config, RawGestures]:
    """The real samples the --generate checkpoint trained on (its data flags; --datapath given wins), and its config;
    --classes, which picks among a generator's own samples, is refused here."""
    saved = _agreed(config, explicit, state)
    if "classes" in explicit and list(config.classes) != list(saved.classes):
        raise UserError(f"--classes picks the classes of a checkpoint's own samples (--synthesizer=generator); "
                        f"--synthesizer={config.synthesizer} takes every class {config.generate} trained on: "
                        "leave out --classes")
    source = dataclasses.replace(saved, download_url=config.download_url or None)
    raw = training_raw_for(source, config.datapath if "datapath" in explicit else None)
    if list(raw.class_names) != list(state["class_names"]):
        raise UserError(f"the {source.dataset} data found has other classes than {config.generate}; "
                        "give the --datapath it was trained on")
    return source, raw


def mix_command(config: Config, explicit: set[str]) -> list[Path]:
    """The mixes of --synthesizer (mix, chain-mix, vetted-chain-mix): --num-per-class samples of every class, drawn by
    the synthesizer's block (`deepnag.generate.synthesizers`) from the checkpoint's generator and training samples."""
    synthesizer = SYNTHESIZERS[config.synthesizer]
    output = npz_path(config.output)
    _check_output(output)
    state = _checkpoint_of(config, explicit)
    source, raw = _training_raw_of(state, config, explicit)
    seed = flag_or_saved(config, explicit, source, "seed")
    generator = load_generator(state, config.generate, resolve_device(config.device))
    sources = Sources(raw, int(state["seq_len"]), state, generator)
    samples, labels = synthesizer.block(sources, config.num_per_class, seed)
    written = _write(output, config, source.dataset, samples, labels, raw.class_names)
    for path in written:
        log.info("wrote %s (%d samples per class, %s: %s, from the %d training samples and the generator)", path,
                 config.num_per_class, synthesizer.name, synthesizer.block.name, len(raw.sequences))
    return written


def transform_command(config: Config, explicit: set[str]) -> list[Path]:
    """The --synthesizer=gpsr and chain actions: `--num-per-sample` variants of every real training sample (GPSR, or
    the chain of METHOD.md), written like --generate's samples."""
    output = npz_path(config.output)
    _check_output(output)
    if config.generate:
        state = _checkpoint_of(config, explicit)
        source, raw = _training_raw_of(state, config, explicit)
        seed = flag_or_saved(config, explicit, source, "seed")
    else:
        seed = config.resolved_seed
        source = dataclasses.replace(config, seed=seed)
        raw = training_raw_for(source)
    transform = SYNTHESIZERS[config.synthesizer].block.per_sample
    samples, labels = transform(raw.sequences, raw.labels, config.num_per_sample, np.random.default_rng(seed))
    written = _write(output, config, source.dataset, samples, labels, raw.class_names)
    what = "GPSR" if config.synthesizer == "gpsr" else "chained (GPSR, rotation, stretch)"
    for path in written:
        log.info("wrote %s (%d %s variants: %d of each of %d real samples from %d subjects)", path, len(samples),
                 what, config.num_per_sample, len(raw.sequences), len(set(raw.subjects)))
    return written


def synthesize_command(config: Config, explicit: set[str]) -> Generated | list[Path]:
    """generate's samples, by the --synthesizer's kind: the generator itself, a simple block applied to every real
    sample (--num-per-sample), or a composition per class (--num-per-class)."""
    synthesizer = SYNTHESIZERS[config.synthesizer]
    if synthesizer.block is GENERATOR:
        return generate_command(config, explicit)
    if synthesizer.count == "num_per_sample":
        return transform_command(config, explicit)
    return mix_command(config, explicit)
