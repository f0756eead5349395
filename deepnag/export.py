"""Synthetic samples for real use (`python main.py --generate=CHECKPOINT --output=PATH`).

Always `PATH.npz` (`samples` float32 (N, n, D) in the data's units, `labels`
int64 (N,), `class_names` unicode (C,); loads with `allow_pickle=False`). With
`--format native` also a folder `PATH/` in the data set's own format, readable by
this project's loaders: $1-GDS XML (`PATH/dollar_gds/xml_logs/synthetic/medium/`),
JK2017 text files (`PATH/jk2017/kinect/training/Sub_synthetic/<class>/`), or for a
folder data set the same CSV layout (`PATH/<class>/synthetic_001.csv`).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import quoteattr

import numpy as np
import torch

from deepnag import checkpoint
from deepnag.atomic import atomic_write
from deepnag.config import Config
from deepnag.datasets import dollar_gds, jk2017
from deepnag.datasets import folder as folder_dataset
from deepnag.errors import UserError
from deepnag.sampling import generate_per_class, load_generator

log = logging.getLogger(__name__)

SYNTHETIC_SUBJECT = "synthetic"
MS_PER_POINT = 10  # T attribute step of exported $1-GDS points


def npz_path(output: str | Path) -> Path:
    path = Path(output)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def write_npz(path: Path, samples: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> Path:
    """Atomically write the portable archive (no pickled objects)."""
    return atomic_write(path, lambda out: np.savez(
        out, samples=samples.astype(np.float32), labels=labels.astype(np.int64),
        class_names=np.array(list(class_names), dtype=np.str_)))


def dollar_gds_xml(name: str, points: np.ndarray, number: int) -> str:
    """One gesture as a $1-GDS XML document (`T` increasing in ms)."""
    rows = "\n".join(
        f'  <Point X="{x:.3f}" Y="{y:.3f}" T="{t * MS_PER_POINT}" />' for t, (x, y) in enumerate(points[:, :2])
    )
    return (
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n'
        f"<Gesture Name={quoteattr(name)} Subject={quoteattr(SYNTHETIC_SUBJECT)} Speed=\"medium\" "
        f'Number="{number}" NumPts="{len(points)}" Millseconds="{(len(points) - 1) * MS_PER_POINT}" '
        f'AppName="DeepNAG">\n{rows}\n</Gesture>\n'
    )


def jk2017_text(class_name: str, frames: np.ndarray) -> str:
    """One skeleton gesture in JK2017's text format."""
    joints = frames.reshape(len(frames), jk2017.JOINTS, 3)
    body = "\n".join("####\n" + "\n".join(f"{x:.7g},{y:.7g},{z:.7g}" for x, y, z in frame) for frame in joints)
    return f"{class_name}\n{len(frames)}\n{body}\n"


def csv_text(sample: np.ndarray) -> str:
    """One sample as CSV: a header `f0,f1,…`, then one row per time step."""
    header = ",".join(f"f{i}" for i in range(sample.shape[1]))
    return header + "\n" + "\n".join(",".join(f"{v:.7g}" for v in row) for row in sample) + "\n"


def write_native(folder: Path, dataset: str, samples: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> Path:
    """The data set's own file layout under `folder`, written to a staging folder then renamed into place."""
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        counters = np.zeros(len(class_names), dtype=int)
        for sample, label in zip(samples, labels):  # one file per sample: file I/O, not a hot path
            counters[label] += 1
            k, name = counters[label], class_names[label]
            if dataset == dollar_gds.NAME:
                path = staging / dollar_gds.FOLDER / dollar_gds.ROOT / SYNTHETIC_SUBJECT / "medium" / f"{name}{k:02d}.xml"
                text = dollar_gds_xml(f"{name}{k:02d}", sample, k)
            elif dataset == folder_dataset.NAME:
                path = staging / name / f"{SYNTHETIC_SUBJECT}_{k:03d}.csv"
                text = csv_text(sample)
            else:
                path = staging / jk2017.FOLDER / f"Sub_{SYNTHETIC_SUBJECT}" / name / f"ex_{k}.txt"
                text = jk2017_text(name, sample)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _check_output(path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise UserError(f"cannot write {path}: folder {parent} does not exist; create it or choose another --output")
    if not os.access(parent, os.W_OK):
        raise UserError(f"cannot write {path}: folder {parent} is not writable; choose another --output")


def generate_command(config: Config, explicit: set[str]) -> list[Path]:
    """The --generate action: sample a checkpoint and write the files; returns what was written."""
    source = Path(config.generate)
    output = npz_path(config.output)
    _check_output(output)
    state = checkpoint.load(source)
    saved = Config.from_dict(state["config"])
    seed = config.seed if "seed" in explicit else saved.seed
    device = torch.device("cuda" if config.device != "cpu" and torch.cuda.is_available() else "cpu")
    generator = load_generator(state, str(source), device)
    samples, labels = generate_per_class(state, generator, config.num_per_class, seed)
    class_names = list(state["class_names"])
    written = [write_npz(output, samples, labels, class_names)]
    if config.format == "native":
        written.append(write_native(output.with_suffix(""), saved.dataset, samples, labels, class_names))
    for path in written:
        log.info("wrote %s (%d samples, %d per class)", path, len(samples), config.num_per_class)
    if config.metrics:
        from deepnag import report

        metrics = report.measure(state, samples, labels, config, explicit)
        written.append(report.write(metrics, output.with_name(output.stem + ".metrics.json")))
        log.info("quality of %d synthetic samples per class:\n%s\nwrote %s", config.num_per_class,
                 report.table(metrics), written[-1])
    return written
