"""Which chain of simple transformations to ship as the default? Held-out accuracy of the learned recogniser.

    python -m benchmarks.chain_choice                       # 3 data sets, 2 writers, 2 folds, 3 seeds, 160 per class
    python -m benchmarks.chain_choice --datasets dollar-gds --folds 1 --seeds 2

For every data set and fold (the folds of `benchmarks/augmentation.py`), the
learned recogniser (`deepnag.recognition.gru_recognizer`) is trained on the
fold's writers' real samples plus `--per-class` variants per class from each
candidate chain, and tested on every sample of the other writers; each seed
draws both the variants and the network's weights. Real alone and GPSR alone are
the baselines. Each candidate's error is reported with its paired difference
from GPSR alone (same fold, same seed), mean ± sd and how many pairs it won.
Results go to `--out` as JSON (resumable per data set and fold) and a markdown summary.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from benchmarks.augmentation import fold_subjects  # the same folds
from deepnag import workers
from deepnag.atomic import atomic_write
from deepnag.data import chain, load_raw
from deepnag.evaluation.augmentation import default_workers
from deepnag.recognition.gru_recognizer import GRURecognizer

CANDIDATES: dict[str, dict[str, Any]] = {
    "gpsr": {"steps": ("gpsr",)},
    "gpsr → rotate 15°": {"steps": ("gpsr", "rotate"), "degrees": 15.0},
    "gpsr → rotate 15° → scale 0.1": {"steps": ("gpsr", "rotate", "scale"), "degrees": 15.0, "spread": 0.1},
    "gpsr → stretch 0.1": {"steps": ("gpsr", "stretch"), "stretch_spread": 0.1},
    "gpsr → rotate 15° → stretch 0.1": {"steps": ("gpsr", "rotate", "stretch"), "degrees": 15.0, "stretch_spread": 0.1},
    "gpsr → rotate 30° → stretch 0.2": {"steps": ("gpsr", "rotate", "stretch"), "degrees": 30.0,
                                        "stretch_spread": 0.2},
}
"""Candidate chains: name → `chain.variants` options."""


def _error(x: list[np.ndarray], y: np.ndarray, x_test: list[np.ndarray], y_test: np.ndarray, seed: int) -> float:
    return float(np.mean(GRURecognizer(random_state=seed).fit(x, y).predict(x_test) != y_test))


def run_fold(dataset: str, datapath: str, writers: int, fold: int, seeds: int, per_class: int,
             executor: ProcessPoolExecutor) -> dict[str, Any]:
    """Errors of real alone and of every candidate, one per seed, on one fold."""
    raw = load_raw(dataset, datapath)
    seen_names = fold_subjects(list(raw.subjects), writers, fold)
    is_seen = np.isin(np.asarray(raw.subjects), seen_names)
    seen = [raw.sequences[i] for i in np.flatnonzero(is_seen)]
    seen_labels = raw.labels[is_seen]
    test, test_labels = [raw.sequences[i] for i in np.flatnonzero(~is_seen)], raw.labels[~is_seen]
    classes = len(raw.class_names)
    jobs: dict[str, list[Any]] = {"real alone": [executor.submit(_error, seen, seen_labels, test, test_labels, s)
                                                  for s in range(seeds)]}
    for name, options in CANDIDATES.items():
        jobs[name] = []
        for seed in range(seeds):
            added, added_labels = chain.per_class(seen, seen_labels, per_class, np.random.default_rng(seed), classes,
                                                  **options)
            x = [*seen, *added]
            y = np.concatenate([seen_labels, added_labels])
            jobs[name].append(executor.submit(_error, x, y, test, test_labels, seed))
    return {"dataset": dataset, "writers": writers, "fold": fold, "subjects": seen_names, "per_class": per_class,
            "errors": {name: [job.result() for job in found] for name, found in jobs.items()}}


def summary(results: list[dict[str, Any]]) -> str:
    """Markdown: per data set, each candidate's mean error and its paired difference from GPSR alone."""
    lines = []
    for dataset in dict.fromkeys(r["dataset"] for r in results):
        folds = [r for r in results if r["dataset"] == dataset]
        lines += [f"**{dataset}**, {folds[0]['writers']} training writers, {len(folds)} folds × "
                  f"{len(folds[0]['errors']['gpsr'])} seeds, {folds[0]['per_class']} added per class", "",
                  "| training set | error (mean ± sd) | − GPSR alone, paired (mean ± sd) | pairs with fewer errors |",
                  "|---|---:|---:|---:|"]
        for name in folds[0]["errors"]:
            errors = np.concatenate([f["errors"][name] for f in folds])
            diffs = errors - np.concatenate([f["errors"]["gpsr"] for f in folds])
            paired = "—" if name == "gpsr" else f"{diffs.mean():+.4f} ± {diffs.std(ddof=1):.4f}"
            won = "—" if name == "gpsr" else f"{int((diffs < 0).sum())} of {len(diffs)} ({int((diffs > 0).sum())} more)"
            lines.append(f"| {name} | {errors.mean():.4f} ± {errors.std(ddof=1):.4f} | {paired} | {won} |")
        lines.append("")
    lines.append("error: 1 − accuracy of GRURecognizer on every sample of the held-out writers; each seed draws the "
                 "variants and the network's weights.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--datasets", default="dollar-gds,jk2017-kinect,jk2017-leap")
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--per-class", type=int, default=160)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "chain_choice"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    with workers.pool(default_workers()) as executor, workers.terminate_on_sigterm(executor):
        for dataset in args.datasets.split(","):
            for fold in range(args.folds):
                path = out / f"{dataset}-w{args.writers}-f{fold}.json"
                if not path.is_file():
                    started = time.perf_counter()
                    result = run_fold(dataset, args.datapath, args.writers, fold, args.seeds, args.per_class, executor)
                    result["seconds"] = round(time.perf_counter() - started, 1)
                    atomic_write(path, lambda f, r=result: f.write((json.dumps(r, indent=1) + "\n").encode()))
                    print(f"{path.name}: {result['seconds']} s", flush=True)
                results.append(json.loads(path.read_text()))
    text = summary(results)
    atomic_write(out / "summary.md", lambda f: f.write((text + "\n").encode()))
    print(text)


if __name__ == "__main__":
    main()
