"""`--metrics`: measure a checkpoint's synthetic gestures against the real data set.

Writes `metrics.json` (see `deepnag.evaluation.metrics.all_metrics`) and logs a short table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from deepnag import checkpoint
from deepnag.atomic import atomic_write
from deepnag.config import Config, flag_or_saved
from deepnag.data import RawGestures, load_raw, subjects
from deepnag.errors import UserError
from deepnag.evaluation import augmentation, two_sample
from deepnag.evaluation.metrics import all_metrics, split_subjects
from deepnag.generate import vetting
from deepnag.generate.export import Generated, metrics_path
from deepnag.generate.sampling import generate_per_class, normalizer_from
from deepnag.models import Generator
from deepnag.recognition import interface, minirocket
from deepnag.recognition.recognizers import accuracy

log = logging.getLogger(__name__)


def real_data(state: dict[str, Any], datapath: str | Path, download_url: str | None = None) -> RawGestures:
    """The real gestures of the checkpoint's data set and classes (every sample: `--max-per-class` is the caller's)."""
    saved = checkpoint.config_of(state)
    every = load_raw(saved.dataset, datapath, speeds=saved.speeds, download_url=download_url or saved.download_url,
                     subject_pattern=saved.subject_pattern, mmg_device=saved.mmg_device).select(saved.classes)
    if list(every.class_names) != list(state["class_names"]):
        raise UserError(f"the {saved.dataset} data at {datapath} has other classes than the checkpoint; "
                        "give the --datapath it was trained on")
    return every


def chosen_recognizers(config: Config) -> tuple[bool, list[Any], dict[str, str]]:
    """--recognizer read: whether the GRU is measured, the other recognisers, and those not installed (name: why)."""
    others, missing = [], {}
    for spec in config.recognizer:
        if spec == "gru":
            continue
        if spec == "minirocket" and not minirocket.available():
            missing["MiniRocket"] = f"not installed: {minirocket.INSTALL}"
            continue
        others.append(interface.from_spec(spec))
    return "gru" in config.recognizer, others, missing


def measure(state: dict[str, Any], samples: np.ndarray, labels: np.ndarray, config: Config, explicit: set[str],
            generator: Generator | None = None, path: Path | None = None) -> dict[str, Any]:
    """Quality metrics of `samples` (data units) against the checkpoint's real data set, written to `path`.

    With `--metrics=study` and a `generator`, also the held-out-writer augmentation study (`held_out`); the quality
    figures are written first, so a study that stops loses none of them.
    """
    saved = checkpoint.config_of(state)
    learned, others, missing = chosen_recognizers(config)
    every = real_data(state, flag_or_saved(config, explicit, saved, "datapath"), config.download_url)
    raw = every.select((), saved.max_per_class)
    if len(set(raw.subjects)) < 2:
        raise UserError(f"--metrics compares subject-disjoint halves, but the {saved.dataset} samples the checkpoint "
                        "was trained on come from one subject (for a folder data set: add subjects.csv or --subject-pattern)")
    seed = flag_or_saved(config, explicit, saved, "seed")
    metrics = all_metrics(raw.sequences, raw.labels, raw.subjects, samples, labels, normalizer_from(state), seed=seed,
                          gamma=saved.gamma, learned=learned, recognizers=others, missing=missing)
    metrics["realism"] = two_sample.two_sample(raw.sequences, raw.subjects, _realism_samples(state, generator, raw,
                                                                                         samples, seed))
    metrics["checkpoint"] = {"model": state["model"], "dataset": state["dataset"], "epoch": state.get("epoch")}
    metrics["num_per_class"] = int(len(labels) // max(len(state["class_names"]), 1))
    _written(metrics, path)
    if generator is not None and config.metrics == "study":
        metrics["augmentation"] = held_out(state, every, saved.max_per_class, generator, samples, labels, seed,
                                           vetted=True, learned=learned, fit_seconds=(metrics["learned"] or {}).get(
                                               "fit_seconds"), recognizers={interface.name_of(r): r for r in others})
        _written(metrics, path)
    return metrics


def _realism_samples(state: dict[str, Any], generator: Generator | None, raw: RawGestures, samples: np.ndarray,
                     seed: int) -> list[np.ndarray]:
    """What the two-sample test compares with the real samples: as many generated ones per class as the real data
    has (drawn for their own seed), or the samples given when there is no generator."""
    if generator is None:
        return list(samples)
    per_class = int(np.ceil(len(raw.labels) / len(state["class_names"])))
    return list(generate_per_class(state, generator, per_class, seed + 7919)[0])


def _written(metrics: dict[str, Any], path: Path | None) -> None:
    """Write what is measured so far, then stop with a one-line error if a recogniser failed."""
    if path is not None:
        write(metrics, path)
    _raise_failures(metrics, path)


def _raise_failures(metrics: dict[str, Any], path: Path | None) -> None:
    """A recogniser that failed, as a one-line error, once everything else measured is written."""
    study = metrics.get("augmentation") or {}
    failed = [o for o in (*metrics.get("more", ()), *study.get("more", ())) if "failed" in o]
    if failed:
        kept = f"; everything else measured is in {path}" if path is not None else ""
        raise interface.RecognizerError(f"{failed[0]['failed']}{kept}")


def held_out(state: dict[str, Any], raw: RawGestures, max_per_class: int, generator: Generator,
             samples: np.ndarray, labels: np.ndarray, seed: int,
             variants: Mapping[str, Callable[[list[np.ndarray], np.ndarray], augmentation.Synthesize]] | None = None,
             runs: int = augmentation.SEEDS, vetted: bool = False, **options: Any) -> dict[str, Any]:
    """The augmentation study on the writers the checkpoint did not see (`deepnag.evaluation.augmentation`).

    `variants`: more named ways of synthesising (rows of `study`), each made from the seen writers' real
    samples and labels. `runs`: the sampling seeds, `seed`, `seed` + 1, …; `vetted`: also the row of
    --synthesizer=vetted-chain-mix ("chain+vetted", `vetting.vetted_half`); `options` go to `augmentation.study`
    (learned, learned_seeds, workers, learned_steps).

    The seen writers' real samples are exactly the generator's training set. A
    checkpoint that saw every writer (or does not say) would leak: its rows are
    left out, and real and the simple augmentations are compared on two subject-disjoint halves.
    """
    seen_names = checkpoint.training_subjects(state)
    available = sorted(set(raw.subjects))
    seeds = [seed + i for i in range(runs)]
    if seen_names is None or set(available) <= set(seen_names):
        half = split_subjects(raw.subjects, seed)
        seen, test = np.flatnonzero(half), np.flatnonzero(~half)
        result = augmentation.study([raw.sequences[i] for i in seen], raw.labels[seen],
                                    [raw.sequences[i] for i in test], raw.labels[test], len(raw.class_names), None,
                                    seeds=seeds, **options)
        why = "does not record its training subjects" if seen_names is None else "saw every subject"
        result["leak"] = (f"the checkpoint {why}, so generator rows would be measured on writers it trained on; "
                          "only real and the simple augmentations (GPSR, chain) are compared, on two subject-disjoint halves of the writers")
        result["seen_subjects"] = sorted(set(raw.subjects[i] for i in seen))
        result["heldout_subjects"] = sorted(set(raw.subjects[i] for i in test))
        return result
    training = subjects.keep(raw, seen_names).select((), max_per_class)
    test = np.flatnonzero(~np.isin(np.asarray(raw.subjects), list(seen_names)))
    test_samples, test_labels = [raw.sequences[i] for i in test], raw.labels[test]
    result = augmentation.study(training.sequences, training.labels, test_samples, test_labels, len(raw.class_names),
                                lambda k, s: generate_per_class(state, generator, k, s), seeds=seeds,
                                variants={name: make(training.sequences, training.labels)
                                          for name, make in (variants or {}).items()},
                                vetted=(lambda k, s: vetting.vetted_half(state, generator, k, s, training)) if vetted
                                else None, **options)
    result["leak"] = None
    result["seen_subjects"] = list(seen_names)
    result["heldout_subjects"] = sorted(set(raw.subjects[i] for i in test))
    result["tstr_heldout_accuracy"] = accuracy(samples, labels, test_samples, test_labels, int(samples.shape[2]))
    return result


def measure_generated(config: Config, explicit: set[str], generated: Generated) -> Path:
    """--generate --metrics: measure what --generate wrote, into PATH.metrics.json beside it."""
    path = metrics_path(generated.output)
    metrics = measure(generated.state, generated.samples, generated.labels, config, explicit, generated.generator, path)
    generated.written.append(path)
    log.info("quality of %d synthetic samples per class:\n%s\nwrote %s", config.num_per_class, table(metrics), path)
    return path


def write(metrics: dict[str, Any], path: Path) -> Path:
    """Atomically write metrics.json."""
    return atomic_write(path, lambda out: out.write((json.dumps(metrics, indent=2) + "\n").encode()))


def table(metrics: dict[str, Any]) -> str:
    """The few numbers that matter, side by side with their real-data baselines."""
    rows = [
        ("recognition (TSTR)", metrics["tstr_accuracy"], metrics["yardstick_accuracy"], "higher",
         "real→real, subject-disjoint"),
    ]
    if metrics.get("learned"):
        rows.append(("learned recogniser (TSTR)", metrics["learned"]["tstr_accuracy"],
                     metrics["learned"]["yardstick_accuracy"], "higher", f"real→real, {metrics['learned']['recognizer']}"))
    for other in metrics.get("more", ()):
        if "tstr_accuracy" in other:
            rows.append((f"{other['recognizer']} (TSTR)", other["tstr_accuracy"], other["yardstick_accuracy"],
                         "higher", f"real→real, {other['recognizer']}"))
    if metrics.get("realism"):
        r = metrics["realism"]
        rows.append(("realism (C2ST accuracy)", r["accuracy"]["mean"], r["floor"]["mean"], "near baseline",
                     "real↔real halves; 0.5: indistinguishable"))
    for m in ("ed", "cos"):
        if f"real_synthetic_{m}" in metrics:
            rows.append((f"fidelity AHD ({m})", metrics[f"real_synthetic_{m}"], metrics[f"real_real_{m}"], "lower",
                         "real↔real"))
            rows.append((f"diversity ({m})", metrics[f"intra_synthetic_{m}"], metrics[f"intra_real_{m}"],
                         "near baseline", "real"))
    w = max(22, *(len(name) + 1 for name, *_ in rows))
    lines = [f"{'metric':<{w}}{'synthetic':>12}{'baseline':>12}  {'better':<14}baseline is"]
    lines += [f"{name:<{w}}{a:>12.4f}{b:>12.4f}  {better:<14}{what}" for name, a, b, better, what in rows]
    lines += [f"{o['recognizer']}: {o.get('missing') or 'failed: ' + o['failed']}" for o in metrics.get("more", ())
              if "tstr_accuracy" not in o]
    study = metrics.get("augmentation")
    if study:
        lines += ["", f"augmentation: recogniser trained on {_names(study['seen_subjects'])}, tested on the held-out "
                  f"{_names(study['heldout_subjects'])}"]
        if study.get("tstr_heldout_accuracy") is not None:
            lines.append(f"TSTR on the held-out writers: {study['tstr_heldout_accuracy']:.4f}")
        if study["leak"]:
            lines.append(f"note: {study['leak']}")
        lines.append(augmentation.table(study))
    return "\n".join(lines)


def _names(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit]) + (", …" if len(names) > limit else "")
    return f"{len(names)} writer{'s' if len(names) != 1 else ''} ({shown})"
