"""HYPE∞ from the stored answers (Zhou et al., NeurIPS 2019), with bootstrap 95% intervals over participants.

HYPE∞ of a generator is the error rate of the scored answers in its arm, real and generated samples together
(half each): 0.5 means people could not tell its gestures from real ones, 0 that they always could. Beside it, the
error on its generated samples alone (how often they passed for real), overall and per class.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deepnag.atomic import atomic_write

log = logging.getLogger(__name__)

BOOTSTRAP = 2000
"""Resamples of the participants behind each interval."""
CSV_COLUMNS = ("session", "trial", "practice", "generator", "truth", "class", "answer", "correct", "ms", "created")


def bootstrap(errors: np.ndarray, counts: np.ndarray, rng: np.random.Generator,
              resamples: int = BOOTSTRAP) -> list[float] | None:
    """The 95% interval of the pooled error rate sum(errors)/sum(counts) when participants are resampled with
    replacement (each row one participant); None without participants."""
    if len(errors) == 0:
        return None
    picks = rng.integers(0, len(errors), size=(resamples, len(errors)))
    totals = counts[picks].sum(axis=1)
    rates = np.where(totals > 0, errors[picks].sum(axis=1) / np.maximum(totals, 1), np.nan)
    low, high = np.nanpercentile(rates, [2.5, 97.5]) if np.isfinite(rates).any() else (np.nan, np.nan)
    return [float(low), float(high)]


def _rate(rows: Sequence[dict[str, Any]], rng: np.random.Generator) -> dict[str, Any]:
    """Error rate of `rows` (answers), its participants' bootstrap interval, and the counts."""
    sessions = sorted({r["session"] for r in rows})
    errors = np.array([sum(1 - r["correct"] for r in rows if r["session"] == s) for s in sessions], dtype=float)
    counts = np.array([sum(1 for r in rows if r["session"] == s) for s in sessions], dtype=float)
    rate = float(errors.sum() / counts.sum()) if len(rows) else None
    return {"error": rate, "ci95": bootstrap(errors, counts, rng), "answers": len(rows), "participants": len(sessions)}


def summary(answers: Sequence[dict[str, Any]], arms: Sequence[str], class_names: Sequence[str],
            seed: int = 0) -> dict[str, Any]:
    """HYPE∞ per generator from the stored answers (practice answers left out), with intervals, and the error on
    generated samples per class."""
    rng = np.random.default_rng(seed)
    scored = [a for a in answers if not a["practice"]]
    generators = {}
    for arm, name in enumerate(arms):
        mine = [a for a in scored if a["arm"] == arm]
        fakes = [a for a in mine if a["truth"] == "generated"]
        generators[name] = {
            "hype_infinity": _rate(mine, rng),
            "real_error": _rate([a for a in mine if a["truth"] == "real"], rng),
            "generated_error": _rate(fakes, rng),
            "generated_error_per_class": {c: _rate([a for a in fakes if a["class"] == i], rng)
                                          for i, c in enumerate(class_names)},
        }
    return {"measure": "HYPE-infinity (Zhou et al., NeurIPS 2019): error rate of people telling real from generated",
            "participants": len({a["session"] for a in scored}), "scored_answers": len(scored),
            "practice_answers": len(answers) - len(scored), "bootstrap_resamples": BOOTSTRAP,
            "generators": generators}


def answers_csv(answers: Sequence[dict[str, Any]], arms: Sequence[str], class_names: Sequence[str]) -> str:
    """Every answer, practice ones too, one row each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for a in answers:
        writer.writerow([a["session"], a["trial"], a["practice"], arms[a["arm"]], a["truth"], class_names[a["class"]],
                         a["answer"], a["correct"], "" if a["ms"] is None else a["ms"], f"{a['created']:.3f}"])
    return out.getvalue()


def figure_png(result: dict[str, Any], title: str = "") -> bytes:
    """Bars per generator: HYPE∞ and the error on generated samples, with their 95% intervals; 0.5 is chance."""
    from matplotlib.figure import Figure  # no pyplot: no backend, no window, safe in the server's threads

    names = list(result["generators"])
    fig = Figure(figsize=(max(4.0, 1.8 * len(names) + 1.5), 3.6))
    ax = fig.add_subplot()
    x = np.arange(len(names))
    for offset, key, label, color in ((-0.2, "hype_infinity", "HYPE∞ (real and generated)", "tab:blue"),
                                      (0.2, "generated_error", "generated judged real", "tab:orange")):
        values = [result["generators"][n][key] for n in names]
        heights = [v["error"] or 0.0 for v in values]
        spans = np.array([[h - (v["ci95"] or [h, h])[0], (v["ci95"] or [h, h])[1] - h] for h, v in zip(heights, values)])
        spans = np.clip(np.nan_to_num(spans.T), 0, None) if any(v["ci95"] for v in values) else None
        ax.bar(x + offset, heights, 0.4, yerr=spans, capsize=4, label=label, color=color)
    ax.axhline(0.5, color="gray", linestyle="--", linewidth=1, label="chance (0.5)")
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("error rate (95% bootstrap interval)")
    ax.set_title(title or f"{result['participants']} participant(s), {result['scored_answers']} scored answers",
                 fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    return out.getvalue()


def write(folder: Path, answers: Sequence[dict[str, Any]], arms: Sequence[str],
          class_names: Sequence[str]) -> dict[str, Path]:
    """answers.csv, summary.json and summary.png into `folder`, each written atomically; returns their paths."""
    result = summary(answers, arms, class_names)
    contents = {"answers.csv": answers_csv(answers, arms, class_names).encode(),
                "summary.json": (json.dumps(result, indent=2) + "\n").encode(), "summary.png": figure_png(result)}
    paths = {}
    for name, data in contents.items():
        paths[name] = atomic_write(folder / name, lambda out, data=data: out.write(data))
    return paths
