"""Does synthetic data help a recogniser for writers it never saw? The held-out-writer protocol over subject folds.

    python benchmarks/augmentation.py --datapath ../shared/data            # both data sets, 1/2/5 writers, 3 folds
    python benchmarks/augmentation.py --datasets dollar-gds --writers 2 --folds 2 --budget 2m
    python benchmarks/augmentation.py --train-flags=--recipe=fast --out benchmarks/results/augmentation-fast
    nohup python benchmarks/augmentation.py --datapath ../shared/data > augmentation.log 2>&1 &

For every data set, number of training writers w and fold f, it trains a
DeepNAG generator with the project's command line on those w writers only
(`--subjects`, the reference's settings or those `--train-flags` adds, for a
wall-clock `--budget` via `--time-limit`), then runs the product's held-out study
(`deepnag.evaluation.report.held_out`, what `--metrics` reports): the standard
recogniser trained on the w writers' real samples alone, + GPSR, + the
generator's samples, + half of each, tested on every other writer, over 5
sampling seeds. Fold f of w writers is the f-th slice of w of one seeded
permutation of the subjects (disjoint while there are enough).

Resumable: each finished fold writes `OUT/<dataset>-w<w>-f<f>/result.json`
(atomically) and is skipped on the next start; an unfinished fold is trained
again from scratch. The summary (`OUT/summary.md`, also printed) averages over
folds: the mean and the sd over folds of each row's error reduction, and the
paired difference generator − GPSR at equal counts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deepnag import checkpoint  # noqa: E402
from deepnag.atomic import atomic_write  # noqa: E402
from deepnag.data import load_raw  # noqa: E402
from deepnag.evaluation import augmentation  # noqa: E402
from deepnag.evaluation.report import held_out  # noqa: E402
from deepnag.evaluation.sampling import generate_per_class, load_generator  # noqa: E402

TSTR_PER_CLASS = 10  # synthetic samples per class for the held-out TSTR figure (the --num-per-class default)


def fold_subjects(subjects: list[str], writers: int, fold: int, seed: int = 0) -> list[str]:
    """The `fold`-th slice of `writers` subjects of one seeded permutation (wrapping around when it runs out)."""
    order = np.random.default_rng(seed).permutation(sorted(set(subjects)))
    return sorted(order[(fold * writers + np.arange(writers)) % len(order)].tolist())


def train(dataset: str, datapath: str, subjects: list[str], budget: str, folder: Path, threads: int,
          flags: tuple[str, ...] = ()) -> Path:
    """Train a generator on `subjects` for `budget` (with extra training `flags`); returns its best checkpoint."""
    logs = folder / "logs"
    shutil.rmtree(logs, ignore_errors=True)  # an unfinished fold starts again
    command = [sys.executable, str(ROOT / "main.py"), f"--dataset={dataset}", f"--datapath={datapath}",
               f"--subjects={','.join(subjects)}", f"--time-limit={budget}", f"--logdir={logs}",
               "--use-tensorboard=0", "--checkpoint-frequency=0", f"--num-threads={threads}", *flags]
    subprocess.run(command, check=True)
    found = sorted(logs.glob("*/checkpoints/checkpoint-best.pt"))
    if not found:
        raise SystemExit(f"training wrote no checkpoint-best.pt under {logs}")
    return found[0]


def evaluate(path: Path, dataset: str, datapath: str, seed: int) -> dict[str, Any]:
    """The product's held-out study of one checkpoint."""
    state = checkpoint.load(path)
    generator = load_generator(state, str(path))
    every = load_raw(dataset, datapath)
    samples, labels = generate_per_class(state, generator, TSTR_PER_CLASS, seed)
    return held_out(state, every, 0, generator, samples, labels, seed)


def run_fold(args: argparse.Namespace, dataset: str, writers: int, fold: int) -> dict[str, Any]:
    folder = Path(args.out) / f"{dataset}-w{writers}-f{fold}"
    result_path = folder / "result.json"
    if result_path.is_file():
        return json.loads(result_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    every = load_raw(dataset, args.datapath)
    subjects = fold_subjects(list(every.subjects), writers, fold)
    print(f"{dataset}, {writers} writer(s), fold {fold}: training on {', '.join(subjects)} for {args.budget}",
          flush=True)
    started = time.perf_counter()
    best = train(dataset, args.datapath, subjects, args.budget, folder, args.threads, tuple(args.train_flags.split()))
    trained = time.perf_counter() - started
    state = checkpoint.load(best)
    started = time.perf_counter()
    study = evaluate(best, dataset, args.datapath, seed=0)
    result = {"dataset": dataset, "writers": writers, "fold": fold, "subjects": subjects, "budget": args.budget,
              "train_flags": args.train_flags,
              "epochs": int(state["epoch"]), "train_seconds": round(trained, 1),
              "eval_seconds": round(time.perf_counter() - started, 1), "study": study}
    atomic_write(result_path, lambda out: out.write((json.dumps(result, indent=1) + "\n").encode()))
    print(augmentation.table(study), flush=True)
    return result


def kinds_of(results: list[dict[str, Any]]) -> list[str]:
    """The row kinds of the studies in `results`, in their order of first appearance."""
    return list(dict.fromkeys(row["added"] for r in results for row in r["study"]["rows"]))


def overview(results: list[dict[str, Any]], counts: tuple[int, ...] = (32, 160)) -> str:
    """Markdown, one line per data set and writer count: real alone's error, then each kind's change at `counts`."""
    groups = groups_of(results)
    kinds = kinds_of(results)
    head = " | ".join(f"+ {augmentation.label(k).removeprefix('real + ')} ({' / '.join(map(str, counts))})"
                      for k in kinds)
    lines = [f"| data set | writers | folds | generator epochs | held-out TSTR | real alone: error | {head} |",
             "|---|---:|---:|---:|---:|---:|" + "---:|" * len(kinds)]
    for (dataset, writers), folds in groups.items():
        real = [f["study"]["real_error"] for f in folds]
        epochs = [f["epochs"] for f in folds]
        tstr = [f["study"]["tstr_heldout_accuracy"] for f in folds]
        cells = []
        for kind in kinds:
            parts = []
            for k in counts:
                found = [row["reduction"]["mean"] for f in folds for row in f["study"]["rows"]
                         if row["added"] == kind and row["per_class"] == k and row["reduction"] is not None]
                sd = np.std(found, ddof=1) if len(found) > 1 else 0.0
                parts.append(f"{0.0 - 100 * np.mean(found):+.0f}% ± {100 * sd:.0f}" if found else "n/a")
            cells.append(" / ".join(parts))
        lines.append(f"| {dataset} | {writers} | {len(folds)} | {min(epochs)}–{max(epochs)} | {np.mean(tstr):.2f} | "
                     f"{np.mean(real):.3f} ± {np.std(real, ddof=1) if len(real) > 1 else 0:.3f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def groups_of(results: list[dict[str, Any]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """The folds of `results` by data set and writer count, sorted."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["dataset"], r["writers"]), []).append(r)
    return dict(sorted(groups.items()))


def paired_with_gpsr(folds: list[dict[str, Any]], kind: str, count: int) -> list[float]:
    """Per fold, `kind`'s error minus GPSR's at `count` per class (folds without both rows are left out)."""
    diffs = []
    for f in folds:
        errors = {r["added"]: r["error"]["mean"] for r in f["study"]["rows"] if r["per_class"] == count}
        if kind in errors and "gpsr" in errors:
            diffs.append(errors[kind] - errors["gpsr"])
    return diffs


def against_gpsr(results: list[dict[str, Any]], count: int = 160) -> str:
    """Markdown, one row per kind: its error minus GPSR's at `count` per class, per data set and writer count."""
    groups = groups_of(results)
    head = " | ".join(f"{dataset}, {writers} writers" for dataset, writers in groups)
    lines = [f"| {count} added per class: error − GPSR's (paired by fold) | {head} |",
             "|---|" + "---:|" * len(groups)]
    for kind in kinds_of(results):
        if kind == "gpsr":
            continue
        cells = []
        for folds in groups.values():
            diffs = paired_with_gpsr(folds, kind, count)
            cells.append(f"{np.mean(diffs):+.4f} ± {np.std(diffs, ddof=1):.4f} ({sum(d < 0 for d in diffs)}/{len(diffs)})"
                         if len(diffs) > 1 else "n/a")
        lines.append(f"| {augmentation.label(kind).removeprefix('real + ')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(results: list[dict[str, Any]]) -> str:
    """Markdown: per data set and writer count, each row's error and reduction averaged over folds."""
    lines = [overview(results), "", "Change: error relative to real alone (negative = fewer errors), mean ± sd over "
             "folds of each fold's mean over 5 sampling seeds; the generator epochs are what the budget bought.", "",
             against_gpsr(results), "", "Each cell: mean ± sd over folds of the kind's error minus GPSR's (negative = "
             "fewer errors than GPSR), then (folds where it had fewer / folds)."]
    for (dataset, writers), folds in groups_of(results).items():
        epochs = [f["epochs"] for f in folds]
        real = [f["study"]["real_error"] for f in folds]
        tstr = [f["study"].get("tstr_heldout_accuracy") for f in folds]
        lines += ["", f"**{dataset}, {writers} training writer(s)**: {len(folds)} folds, "
                  f"{folds[0]['study']['recognizer']}, generator budget {folds[0]['budget']} "
                  f"({min(epochs)}–{max(epochs)} epochs), held-out TSTR {np.mean(tstr):.3f}; "
                  f"real alone: error {np.mean(real):.3f} ± {np.std(real, ddof=1) if len(real) > 1 else 0:.3f}", "",
                  "| added per class | training set | error | change vs real alone (mean ± sd over folds) |",
                  "|---:|---|---:|---:|"]
        rows: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for f in folds:
            for row in f["study"]["rows"]:
                rows.setdefault((row["per_class"], row["added"]), []).append(row)
        kinds = kinds_of(folds)
        for (k, kind), found in sorted(rows.items(), key=lambda item: (item[0][0], kinds.index(item[0][1]))):
            errors = [r["error"]["mean"] for r in found]
            reductions = [r["reduction"]["mean"] for r in found if r["reduction"] is not None]
            change = (f"{0.0 - 100 * np.mean(reductions):+.1f}% ± {100 * np.std(reductions, ddof=1):.1f}"
                      if len(reductions) > 1 else "n/a")
            lines.append(f"| {k} | {augmentation.label(kind)} | {np.mean(errors):.3f} | {change} |")
        for k in sorted({k for k, _ in rows}):
            for kind in kinds:
                diffs = paired_with_gpsr(folds, kind, k)
                if kind == "gpsr" or len(diffs) < 2:
                    continue
                below = sum(d < 0 for d in diffs)
                lines.append(f"| {k} | {augmentation.label(kind).removeprefix('real + ')} − GPSR (paired) | "
                             f"{np.mean(diffs):+.4f} ± {np.std(diffs, ddof=1):.4f} | "
                             f"fewer errors than GPSR in {below} of {len(diffs)} folds |")
    lines += ["", "error: 1 − accuracy on every sample of the held-out writers (lower is better); change: relative "
              "to real alone, negative = fewer errors; each fold's figure is the mean over 5 sampling seeds."]
    return "\n".join(lines)


def write_summary(results: list[dict[str, Any]], out: Path) -> None:
    """The summary of `results`, written atomically to `out` and printed."""
    text = summary(results)
    atomic_write(out, lambda f: f.write((text + "\n").encode()))
    print(text)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"),
                        help="folder holding dollar_gds/ and jk2017/")
    parser.add_argument("--datasets", default="dollar-gds,jk2017-kinect")
    parser.add_argument("--writers", default="1,2,5", help="comma-separated numbers of training writers")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--budget", default="4m", help="wall-clock training per fold (--time-limit)")
    parser.add_argument("--threads", type=int, default=0, help="--num-threads of training (0: all cores)")
    parser.add_argument("--train-flags", default="", metavar="FLAGS",
                        help="more training flags for every fold's generator, e.g. '--recipe=fast' (use another --out)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "augmentation"))
    args = parser.parse_args()
    results = [run_fold(args, dataset, int(w), fold)
               for dataset in args.datasets.split(",") for w in args.writers.split(",") for fold in range(args.folds)]
    write_summary(results, Path(args.out) / "summary.md")


if __name__ == "__main__":
    main()
