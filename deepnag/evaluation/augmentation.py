"""Does synthetic data help a recogniser for writers it never saw? Measured on held-out writers, without leaks.

The standard recogniser (`recognizers.recognizer_for`: Protractor for 2D,
Jackknife-DTW otherwise) is trained on the real samples of the seen writers
alone, then with k synthetic samples per class added: GPSR variants of those same
real samples, the generator's samples, or half of each ("both", so every row adds
the same number). Each is tested on every sample of the held-out writers. Adding
samples is random, so every augmented row is repeated over sampling seeds and
reported as a mean and spread of its error and of its error reduction against
real alone (real alone is deterministic: 1-NN). Each other kind is also compared
with GPSR seed by seed (`versus_gpsr`): the question a user asks is whether the
generator beats the simple baseline, and pairing by seed takes out the variation
that both share (the same GPSR draws make half of "both").

The distances from the test samples to every template are computed once per
seed at the largest k; 1-NN over fewer templates is a minimum over a subset of
those columns, so the counts cost nothing extra.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from deepnag.data import gpsr
from deepnag.evaluation.recognizers import recognizer_for
from deepnag.progress import Progress

log = logging.getLogger(__name__)

COUNTS = (8, 32, 160)
"""Synthetic samples added per class (the rows of the table)."""
SEEDS = 5
"""Sampling seeds each augmented row is repeated over."""
ADDED = ("gpsr", "generator", "both")
LABELS = {"real": "real alone", "gpsr": "real + GPSR", "generator": "real + generator", "both": "real + both (½ + ½)"}

Synthesize = Callable[[int, int], tuple[np.ndarray, np.ndarray]]
"""(k per class, seed) → k samples of every class, class-major, in the data's units, and their labels."""


def _nearest(distances: np.ndarray, labels: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each query's nearest template among `columns`: its distance and label."""
    block = distances[:, columns]
    index = np.argmin(block, axis=1)
    return block[np.arange(len(block)), index], labels[columns][index]


def _predict(blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """1-NN over the union of template blocks (distances, labels, columns kept); ties go to the earlier block."""
    found = [_nearest(*block) for block in blocks if block[2].size]
    distances = np.stack([d for d, _ in found])
    labels = np.stack([lab for _, lab in found])
    return labels[np.argmin(distances, axis=0), np.arange(distances.shape[1])]


def _first_per_class(num_classes: int, k_max: int, k: int) -> np.ndarray:
    """Columns of the first k samples of every class in a class-major set of k_max per class."""
    return np.flatnonzero(np.tile(np.arange(k_max) < k, num_classes))


def _summary(values: Sequence[float]) -> dict[str, float]:
    values = np.asarray(values, dtype=np.float64)
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "min": float(values.min()), "max": float(values.max())}


def study(
    seen: Sequence[np.ndarray],
    seen_labels: np.ndarray,
    test: Sequence[np.ndarray],
    test_labels: np.ndarray,
    num_classes: int,
    synthesize: Synthesize | None,
    *,
    counts: Sequence[int] = COUNTS,
    seeds: Sequence[int] = tuple(range(SEEDS)),
    variants: Mapping[str, Synthesize] | None = None,
) -> dict[str, Any]:
    """Errors on `test` of the recogniser trained on `seen` alone and with each kind of added samples.

    `synthesize` is the generator (None: only the GPSR rows, e.g. when the
    generator saw the test writers). `variants` adds one row kind per named
    synthesizer (other ways of sampling, compared on the same seeds and GPSR
    draws). All samples are in the data's units.
    """
    seen_labels, test_labels = np.asarray(seen_labels, dtype=np.int64), np.asarray(test_labels, dtype=np.int64)
    num_features = int(np.asarray(seen[0]).shape[1])
    recognizer = recognizer_for(num_features)
    counts = sorted({int(k) for k in counts})
    k_max = counts[-1]
    all_real = np.arange(len(seen))
    real_distances = recognizer.distance_matrix(test, seen)
    real_error = float(np.mean(_predict([(real_distances, seen_labels, all_real)]) != test_labels))
    variants = dict(variants or {})
    if clash := set(variants) & set(LABELS):
        raise ValueError(f"variant names {sorted(clash)} are taken by the study's own rows")
    kinds = (*(ADDED if synthesize is not None else ("gpsr",)), *variants)
    errors: dict[tuple[str, int], list[float]] = {(kind, k): [] for kind in kinds for k in counts}
    with Progress(len(seeds), "held-out augmentation study", "sampling seeds", log, every=5.0) as progress:
        for seed in seeds:
            rng = np.random.default_rng(seed)
            pool = {"gpsr": gpsr.per_class(seen, seen_labels, k_max, rng, num_classes)}
            if synthesize is not None:
                pool["generator"] = synthesize(k_max, seed)
            pool.update({name: make(k_max, seed) for name, make in variants.items()})
            distances = {name: (recognizer.distance_matrix(test, list(samples)), np.asarray(labels, dtype=np.int64))
                         for name, (samples, labels) in pool.items()}
            for k in counts:
                real = (real_distances, seen_labels, all_real)
                for kind in kinds:
                    if kind == "both":
                        half = k // 2
                        blocks = [real, (*distances["gpsr"], _first_per_class(num_classes, k_max, k - half)),
                                  (*distances["generator"], _first_per_class(num_classes, k_max, half))]
                    else:
                        blocks = [real, (*distances[kind], _first_per_class(num_classes, k_max, k))]
                    errors[(kind, k)].append(float(np.mean(_predict(blocks) != test_labels)))
            progress.update()
    rows = []
    for (kind, k), values in errors.items():
        # Relative to real alone; undefined when real alone makes no error (then only the errors tell).
        reduction = _summary([(real_error - e) / real_error for e in values]) if real_error > 0 else None
        rows.append({"added": kind, "per_class": k, "errors": values, "error": _summary(values),
                     "reduction": reduction})
    return {
        "recognizer": type(recognizer).__name__,
        "real_error": real_error,
        "rows": rows,
        "versus_gpsr": versus_gpsr(rows),
        "counts": counts,
        "seeds": [int(s) for s in seeds],
        "samples": {"seen": len(seen), "test": len(test)},
    }


def versus_gpsr(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each non-GPSR row's error minus GPSR's at the same count, seed by seed (negative: fewer errors than GPSR)."""
    gpsr_errors = {row["per_class"]: np.asarray(row["errors"]) for row in rows if row["added"] == "gpsr"}
    paired = []
    for row in rows:
        if row["added"] != "gpsr" and row["per_class"] in gpsr_errors:
            differences = np.asarray(row["errors"]) - gpsr_errors[row["per_class"]]
            paired.append({"added": row["added"], "per_class": row["per_class"],
                           "differences": differences.tolist(), "difference": _summary(differences)})
    return paired


def label(kind: str) -> str:
    """A row kind's name in tables: the study's own, or "real + <variant>"."""
    return LABELS.get(kind, f"real + {kind}")


def table(result: dict[str, Any]) -> str:
    """The study as text: one line per training set, lower error is better, reductions with their spread."""
    lines = [f"{'added per class':<16}{'training set':<22}{'error':>8}  {'vs real alone (mean ± sd, min…max)':<40}",
             f"{0:<16}{LABELS['real']:<22}{result['real_error']:>8.4f}  {'—':<40}"]
    order = [row["added"] for row in result["rows"]]
    for row in sorted(result["rows"], key=lambda r: (r["per_class"], order.index(r["added"]))):
        r, e = row["reduction"], row["error"]
        if r is None:
            change = f"(real alone: no error) error sd {e['sd']:.4f}"
        else:
            change = (f"{0.0 - 100 * r['mean']:+.1f}% ± {100 * r['sd']:.1f}  "
                      f"({0.0 - 100 * r['max']:+.1f}…{0.0 - 100 * r['min']:+.1f}%)")
        lines.append(f"{row['per_class']:<16}{label(row['added']):<22}{row['error']['mean']:>8.4f}  {change:<40}")
    paired = versus_gpsr(result["rows"])
    if paired:
        lines.append(f"{'':<16}{'paired by seed':<22}{'Δ error':>8}  {'against GPSR, same count and seed (mean ± sd, min…max)'}")
    for row in sorted(paired, key=lambda r: (r["per_class"], order.index(r["added"]))):
        d = row["difference"]
        lines.append(f"{row['per_class']:<16}{label(row['added']).removeprefix('real + ') + ' − GPSR':<22}"
                     f"{d['mean']:>+8.4f}  ± {d['sd']:.4f}  ({d['min']:+.4f}…{d['max']:+.4f})")
    lines.append(f"error: 1 − accuracy of {result['recognizer']} on {result['samples']['test']} samples of the "
                 f"held-out writers (lower is better); changes over {len(result['seeds'])} sampling seeds, "
                 "negative = fewer errors")
    if paired:
        lines.append("paired: a kind beats GPSR beyond the seeds' spread when its whole min…max is below zero")
    return "\n".join(lines)


__all__ = ["COUNTS", "SEEDS", "ADDED", "LABELS", "label", "study", "table", "versus_gpsr"]
