"""`--metrics`: measure a checkpoint's synthetic gestures against the real data set.

Writes `metrics.json` (see `deepnag.evaluation.metrics.all_metrics`) and logs a short table.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from deepnag import checkpoint
from deepnag.atomic import atomic_write
from deepnag.config import Config, flag_or_saved
from deepnag.data import load_raw
from deepnag.errors import UserError
from deepnag.evaluation.metrics import all_metrics
from deepnag.evaluation.sampling import normalizer_from

log = logging.getLogger(__name__)


def measure(state: dict[str, Any], samples: np.ndarray, labels: np.ndarray, config: Config, explicit: set[str]) -> dict[str, Any]:
    """Quality metrics of `samples` (data units) against the checkpoint's real data set."""
    saved = checkpoint.config_of(state)
    datapath = flag_or_saved(config, explicit, saved, "datapath")
    raw = load_raw(saved.dataset, datapath, speeds=saved.speeds, download_url=config.download_url or saved.download_url,
                   subject_pattern=saved.subject_pattern).select(saved.classes, saved.max_per_class)
    if list(raw.class_names) != list(state["class_names"]):
        raise UserError(f"the {saved.dataset} data at {datapath} has other classes than the checkpoint; "
                        "give the --datapath it was trained on")
    if len(set(raw.subjects)) < 2:
        raise UserError(f"--metrics compares subject-disjoint halves, but the {saved.dataset} samples the checkpoint "
                        "was trained on come from one subject (for a folder data set: add subjects.csv or --subject-pattern)")
    seed = flag_or_saved(config, explicit, saved, "seed")
    metrics = all_metrics(raw.sequences, raw.labels, raw.subjects, samples, labels, normalizer_from(state), seed=seed,
                          gamma=saved.gamma)
    metrics["checkpoint"] = {"model": state["model"], "dataset": state["dataset"], "epoch": state.get("epoch")}
    metrics["num_per_class"] = int(len(labels) // max(len(state["class_names"]), 1))
    return metrics


def write(metrics: dict[str, Any], path: Path) -> Path:
    """Atomically write metrics.json."""
    return atomic_write(path, lambda out: out.write((json.dumps(metrics, indent=2) + "\n").encode()))


def table(metrics: dict[str, Any]) -> str:
    """The few numbers that matter, side by side with their real-data baselines."""
    rows = [
        ("recognition (TSTR)", metrics["tstr_accuracy"], metrics["yardstick_accuracy"], "higher",
         "real→real, subject-disjoint"),
    ]
    for m in ("ed", "cos"):
        if f"real_synthetic_{m}" in metrics:
            rows.append((f"fidelity AHD ({m})", metrics[f"real_synthetic_{m}"], metrics[f"real_real_{m}"], "lower",
                         "real↔real"))
            rows.append((f"diversity ({m})", metrics[f"intra_synthetic_{m}"], metrics[f"intra_real_{m}"],
                         "near baseline", "real"))
    lines = [f"{'metric':<22}{'synthetic':>12}{'baseline':>12}  {'better':<14}baseline is"]
    lines += [f"{name:<22}{a:>12.4f}{b:>12.4f}  {better:<14}{what}" for name, a, b, better, what in rows]
    return "\n".join(lines)
