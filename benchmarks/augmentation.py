"""Does synthetic data help a recogniser for writers it never saw? The held-out-writer protocol over subject folds.

    python -m benchmarks.augmentation --datapath ../shared/data            # 3 data sets, 2 and 5 writers, 2 folds
    python -m benchmarks.augmentation --datasets dollar-gds --writers 2 --folds 2 --budget 2m
    bash benchmarks/augmentation_learned.sh                               # the README's run (resumable)

For every data set, number of training writers w and fold f, it trains a
DeepNAG generator with the project's command line on those w writers only
(`--subjects`, the reference's settings or those `--train-flags` adds, for a
wall-clock `--budget` via `--time-limit`), then runs the product's held-out study
(`deepnag.evaluation.report.held_out`, what `--metrics` reports) for both
recognisers: real samples of the w writers alone, + GPSR, + chain, + the
generator's samples, + the mixes, at 8 / 32 / 160 per class, tested on every
other writer; the 1-NN recogniser over 5 sampling seeds, the learned one over
`--learned-seeds` seeds of sampling and training. Fold f of w writers is the
f-th slice of w of one seeded permutation of the subjects (disjoint while there
are enough).

Resumable: each finished fold writes `OUT/<dataset>-w<w>-f<f>/result.json`
(atomically) and is skipped on the next start; an unfinished fold is trained
again from scratch. The summary (`OUT/summary.md`, also printed) averages over
folds, per recogniser: the mean and the sd over folds of each row's error and
its change against real alone, and each kind's error minus that of the best
simple augmentation (the better of GPSR and chain in that fold) at equal counts.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from deepnag import checkpoint
from deepnag.atomic import atomic_write
from deepnag.data import load_raw
from deepnag.evaluation import augmentation
from deepnag.evaluation.report import held_out
from deepnag.generate.sampling import generate_per_class, load_generator

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


def evaluate(path: Path, dataset: str, datapath: str, seed: int, learned_seeds: int) -> dict[str, Any]:
    """The product's held-out study of one checkpoint (the learned recogniser over `learned_seeds` training seeds)."""
    state = checkpoint.load(path)
    generator = load_generator(state, str(path))
    every = load_raw(dataset, datapath)
    samples, labels = generate_per_class(state, generator, TSTR_PER_CLASS, seed)
    return held_out(state, every, 0, generator, samples, labels, seed, learned_seeds=learned_seeds)


def run_fold(args: argparse.Namespace, dataset: str, writers: int, fold: int) -> dict[str, Any]:
    folder = Path(args.out) / f"{dataset}-w{writers}-f{fold}"
    result_path = folder / "result.json"
    if result_path.is_file():
        result = json.loads(result_path.read_text())
        return {**result, "study": augmentation.with_current_names(result["study"])}
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
    study = evaluate(best, dataset, args.datapath, seed=0, learned_seeds=args.learned_seeds)
    result = {"dataset": dataset, "writers": writers, "fold": fold, "subjects": subjects, "budget": args.budget,
              "train_flags": args.train_flags, "learned_seeds": args.learned_seeds,
              "epochs": int(state["epoch"]), "train_seconds": round(trained, 1),
              "eval_seconds": round(time.perf_counter() - started, 1), "study": study}
    atomic_write(result_path, lambda out: out.write((json.dumps(result, indent=1) + "\n").encode()))
    print(augmentation.table(study), flush=True)
    return result


RECOGNISERS = {"1-NN": "the 1-NN recogniser (Protractor or Jackknife-DTW), 5 sampling seeds per fold",
               "learned": "the learned recogniser (GRURecognizer), seeds of sampling and training per fold"}
"""The studies of a fold: its 1-NN one, and the learned recogniser's under "learned"."""


def views(results: list[dict[str, Any]], which: str) -> list[dict[str, Any]]:
    """The folds of `results` with `study` replaced by recogniser `which`'s study (folds without one left out)."""
    found = []
    for r in results:
        study = r["study"] if which == "1-NN" else r["study"].get(which)
        if study:
            found.append({**r, "study": {**study, "tstr_heldout_accuracy": r["study"].get("tstr_heldout_accuracy")}})
    return found


def kinds_of(results: list[dict[str, Any]]) -> list[str]:
    """The row kinds of the studies in `results`, in their order of first appearance."""
    return list(dict.fromkeys(row["added"] for r in results for row in r["study"]["rows"]))


def _spread(values: list[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def overview(results: list[dict[str, Any]], counts: tuple[int, ...] = (32, 160)) -> str:
    """Markdown, one line per data set and writer count: real alone's error, then each kind's change at `counts`."""
    groups = groups_of(results)
    kinds = kinds_of(results)
    head = " | ".join(f"+ {short(k)} ({' / '.join(map(str, counts))})" for k in kinds)
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
                parts.append(f"{0.0 - 100 * np.mean(found):+.0f}% ± {100 * _spread(found):.0f}" if found else "n/a")
            cells.append(" / ".join(parts))
        lines.append(f"| {dataset} | {writers} | {len(folds)} | {min(epochs)}–{max(epochs)} | {np.mean(tstr):.2f} | "
                     f"{np.mean(real):.3f} ± {_spread(real):.3f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def errors_at(results: list[dict[str, Any]], count: int = 160) -> str:
    """Markdown, one line per data set and writer count: each kind's error at `count`, mean ± sd over folds."""
    groups = groups_of(results)
    kinds = kinds_of(results)
    lines = [f"| data set | writers | folds | real alone | {' | '.join(f'+ {short(k)}' for k in kinds)} |",
             "|---|---:|---:|---:|" + "---:|" * len(kinds)]
    for (dataset, writers), folds in groups.items():
        real = [f["study"]["real_error"] for f in folds]
        cells = []
        for kind in kinds:
            found = [row["error"]["mean"] for f in folds for row in f["study"]["rows"]
                     if row["added"] == kind and row["per_class"] == count]
            cells.append(f"{np.mean(found):.3f} ± {_spread(found):.3f}" if found else "n/a")
        lines.append(f"| {dataset} | {writers} | {len(folds)} | {np.mean(real):.3f} ± {_spread(real):.3f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def short(kind: str) -> str:
    """A kind's name in a column head: its label without "real + "."""
    return augmentation.label(kind).removeprefix("real + ")


def groups_of(results: list[dict[str, Any]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """The folds of `results` by data set and writer count, sorted."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["dataset"], r["writers"]), []).append(r)
    return dict(sorted(groups.items()))


def paired_with_best_simple(folds: list[dict[str, Any]], kind: str, count: int) -> tuple[list[float], list[str]]:
    """Per fold, `kind`'s error minus that of the fold's best simple augmentation (GPSR or chain, the lower mean
    error) at `count`, and which one that was (folds without both rows are left out)."""
    diffs, baselines = [], []
    for f in folds:
        errors = {r["added"]: r["error"]["mean"] for r in f["study"]["rows"] if r["per_class"] == count}
        simple = [k for k in augmentation.SIMPLE if k in errors]
        if kind in errors and simple:
            best = min(simple, key=lambda k: (errors[k], k))
            diffs.append(errors[kind] - errors[best])
            baselines.append(best)
    return diffs, baselines


def _paired_cell(diffs: list[float], baselines: list[str]) -> str:
    names = "/".join(short(b) for b in dict.fromkeys(baselines))
    return (f"{np.mean(diffs):+.4f} ± {_spread(diffs):.4f} ({sum(d < 0 for d in diffs)}/{len(diffs)}, vs {names})"
            if len(diffs) > 1 else "n/a")


def against_best_simple(results: list[dict[str, Any]], count: int = 160) -> str:
    """Markdown, one row per non-simple kind: its error minus the best simple augmentation's at `count` per class,
    per data set and writer count."""
    groups = groups_of(results)
    head = " | ".join(f"{dataset}, {writers} writers" for dataset, writers in groups)
    lines = [f"| {count} added per class: error − best simple (paired by fold) | {head} |",
             "|---|" + "---:|" * len(groups)]
    for kind in kinds_of(results):
        if kind not in augmentation.SIMPLE:
            cells = [_paired_cell(*paired_with_best_simple(folds, kind, count)) for folds in groups.values()]
            lines.append(f"| {short(kind)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def details(folds: list[dict[str, Any]]) -> list[str]:
    """Markdown lines of one data set and writer count: every row's error and change, then the paired differences."""
    rows: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for f in folds:
        for row in f["study"]["rows"]:
            rows.setdefault((row["per_class"], row["added"]), []).append(row)
    kinds = kinds_of(folds)
    lines = ["| added per class | training set | error | change vs real alone (mean ± sd over folds) |",
             "|---:|---|---:|---:|"]
    for (k, kind), found in sorted(rows.items(), key=lambda item: (item[0][0], kinds.index(item[0][1]))):
        errors = [r["error"]["mean"] for r in found]
        reductions = [r["reduction"]["mean"] for r in found if r["reduction"] is not None]
        change = (f"{0.0 - 100 * np.mean(reductions):+.1f}% ± {100 * _spread(reductions):.1f}"
                  if len(reductions) > 1 else "n/a")
        lines.append(f"| {k} | {augmentation.label(kind)} | {np.mean(errors):.3f} | {change} |")
    for k in sorted({k for k, _ in rows}):
        for kind in kinds:
            diffs, baselines = paired_with_best_simple(folds, kind, k)
            if kind in augmentation.SIMPLE or len(diffs) < 2:
                continue
            names = "/".join(short(b) for b in dict.fromkeys(baselines))
            lines.append(f"| {k} | {short(kind)} − best simple ({names}, paired) | "
                         f"{np.mean(diffs):+.4f} ± {_spread(diffs):.4f} | "
                         f"fewer errors than it in {sum(d < 0 for d in diffs)} of {len(diffs)} folds |")
    return lines


def summary(results: list[dict[str, Any]]) -> str:
    """Markdown, per recogniser: each kind's change and error averaged over folds, the paired differences from the
    best simple augmentation, then per data set and writer count every row."""
    lines: list[str] = []
    for which, what in RECOGNISERS.items():
        folds_of = views(results, which)
        if not folds_of:
            continue
        lines += [f"## {which}: {what}", "", overview(folds_of), "",
                  "Change: error relative to real alone (negative = fewer errors), mean ± sd over folds of each "
                  "fold's mean over its seeds; the generator epochs are what the budget bought.", "",
                  "Error at 160 added per class, mean ± sd over folds:", "", errors_at(folds_of), "",
                  against_best_simple(folds_of), "", "Each cell: mean ± sd over folds of the kind's error minus that "
                  "of the better of GPSR and chain in that fold (negative = fewer errors), then (folds where it had "
                  "fewer / folds, and the baseline)."]
        for (dataset, writers), folds in groups_of(folds_of).items():
            epochs = [f["epochs"] for f in folds]
            real = [f["study"]["real_error"] for f in folds]
            tstr = [f["study"].get("tstr_heldout_accuracy") for f in folds]
            lines += ["", f"**{dataset}, {writers} training writer(s)**: {len(folds)} folds, "
                      f"{folds[0]['study']['recognizer']}, generator budget {folds[0]['budget']} "
                      f"({min(epochs)}–{max(epochs)} epochs), held-out TSTR {np.mean(tstr):.3f}; "
                      f"real alone: error {np.mean(real):.3f} ± {_spread(real):.3f}", "", *details(folds)]
        lines.append("")
    lines += ["error: 1 − accuracy on every sample of the held-out writers (lower is better); change: relative "
              "to real alone, negative = fewer errors; each fold's figure is the mean over its seeds."]
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
    parser.add_argument("--datasets", default="dollar-gds,jk2017-kinect,jk2017-leap")
    parser.add_argument("--writers", default="2,5", help="comma-separated numbers of training writers")
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--learned-seeds", type=int, default=2,
                        help="training seeds of the learned recogniser per fold (the folds add their own spread)")
    parser.add_argument("--budget", default="4m", help="wall-clock training per fold (--time-limit)")
    parser.add_argument("--threads", type=int, default=0, help="--num-threads of training (0: all cores)")
    parser.add_argument("--train-flags", default="", metavar="FLAGS",
                        help="more training flags for every fold's generator, e.g. '--recipe=fast' (use another --out)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "augmentation" / "reference_schedule"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    results = [run_fold(args, dataset, int(w), fold)
               for dataset in args.datasets.split(",") for w in args.writers.split(",") for fold in range(args.folds)]
    write_summary(results, Path(args.out) / "summary.md")


if __name__ == "__main__":
    main()
