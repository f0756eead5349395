"""Time to quality: TSTR / yardstick of a generator trained from scratch, at fixed points of wall-clock training.

    python -m benchmarks.time_to_quality                                   # both data sets, the recipes below
    python -m benchmarks.time_to_quality --datasets jk2017-kinect --points 1m,2m,5m
    python -m benchmarks.time_to_quality --recipe "lr3e-3=--recipe=fast --lr=3e-3" --recipe "reference="
    nohup python -m benchmarks.time_to_quality > time_to_quality.log 2>&1 &

Each recipe (a name and the training flags it adds to the reference's defaults)
trains with `python main.py` in segments: `--time-limit` up to the next point,
then `--resume` for the next, so evaluation never counts as training time. At
every point the checkpoint is measured with the same recogniser as `--metrics`
(10 samples per class, tested on every real sample, beside the subject-disjoint
yardstick), as the mean over 3 sampling seeds with their sd. The recipes of a data set
run one after the other on the same machine; for a fair comparison keep the
machine otherwise idle (the time limits are wall-clock).

Resumable: every measured point is appended to `OUT/<dataset>-<recipe>/points.jsonl`
and the segment's checkpoint kept, so a restart continues from the last point.
Prints every curve measured in OUT side by side (this run's and earlier ones'),
and writes them to `OUT/summary.md` and `OUT/time_to_quality.png`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from deepnag import checkpoint
from deepnag.config import DURATION_UNITS
from deepnag.data import load_raw
from deepnag.evaluation.metrics import subject_disjoint_yardstick
from deepnag.generate.sampling import generate_per_class, load_generator
from deepnag.recognition.recognizers import accuracy

RECIPES = {"reference": "", "lr3e-3": "--lr=3e-3", "lr3e-3+warm-up": "--lr=3e-3 --lr-warmup=100",
           "fast": "--recipe=fast"}
"""Recipes measured by default: name → extra training flags. "fast" is the product's --recipe fast; the two
before it add its parts one at a time (the learning rate, then its warm-up; "fast" adds the weight average)."""
POINTS = {"dollar-gds": "2m,5m,10m,15m", "jk2017-kinect": "1m,2m,3m,5m", "jk2017-leap": "1m,2m,3m,5m"}
"""Default wall-clock points per data set: up to the targets (0.9 of the yardstick in 15 and 5 minutes)."""
PER_CLASS = 10
SAMPLING_SEEDS = (0, 1, 2)
"""TSTR is the mean over these sampling seeds (each PER_CLASS samples per class); its sd says how much of a
difference between two points is sampling noise."""
LEGEND = ("TSTR / yardstick at each point of training time, ± the sd over sampling seeds (epochs reached in "
          "brackets); the targets are 0.9 and 0.97.")


def warm_caches() -> None:
    """Compile and cache the Numba soft-DTW kernels once, so that no recipe's first minute pays for it."""
    import torch

    from deepnag.loss.soft_dtw_autograd import soft_dtw_pairs

    for dtype in (torch.float32, torch.float64):
        for features in (2, 3):  # the 2-feature kernels are specialised
            for distance in ("ed", "cos"):
                x = torch.rand(2, 8, features, dtype=dtype, requires_grad=True)
                soft_dtw_pairs(x, torch.rand(2, 8, features, dtype=dtype), 0.1, distance).sum().backward()


def seconds(text: str) -> float:
    """'90s', '5m', '1h' in seconds (the command line's units)."""
    return float(text[:-1]) * DURATION_UNITS[text[-1].lower()]


def train_to(dataset: str, datapath: str, flags: list[str], point: float, folder: Path, threads: int) -> Path:
    """Train (or continue) the recipe's run until `point` seconds of training in all; returns its checkpoint."""
    logs = folder / "logs"
    found = sorted(logs.glob("*/checkpoints/checkpoint-last.pt"))
    done = json.loads((folder / "trained.json").read_text())["seconds"] if (folder / "trained.json").is_file() else 0.0
    budget = max(point - done, 1.0)
    common = [f"--time-limit={budget:.0f}s", "--use-tensorboard=0", "--checkpoint-frequency=0",
              f"--num-threads={threads}"]
    if found and done:
        command = [sys.executable, str(ROOT / "main.py"), f"--resume={found[0]}", f"--datapath={datapath}", *common]
    else:
        shutil.rmtree(logs, ignore_errors=True)
        command = [sys.executable, str(ROOT / "main.py"), f"--dataset={dataset}", f"--datapath={datapath}",
                   f"--logdir={logs}", *flags, *common]
    subprocess.run(command, check=True)
    (written,) = sorted(logs.glob("*/checkpoints/checkpoint-last.pt"))
    (folder / "trained.json").write_text(json.dumps({"seconds": done + budget}))
    return written


class Yardsticks:
    """The real samples of the classes a checkpoint generates, and their subject-disjoint yardstick (computed once)."""

    def __init__(self, dataset: str, datapath: str) -> None:
        self.all = load_raw(dataset, datapath)
        self.known: dict[tuple[str, ...], tuple[Any, float]] = {}

    def __call__(self, classes: tuple[str, ...]) -> tuple[Any, float]:
        if classes not in self.known:
            real = self.all.select(classes=classes)
            self.known[classes] = real, subject_disjoint_yardstick(real.sequences, real.labels, real.subjects,
                                                                   real.num_features)
        return self.known[classes]


def measure(path: Path, yardsticks: Yardsticks) -> dict[str, Any]:
    """TSTR of the checkpoint's samples on every real sample of its classes, and its ratio to the yardstick."""
    state = checkpoint.load(path)
    real, yardstick = yardsticks(tuple(state["class_names"]))
    generator = load_generator(state, str(path))
    tstrs = []
    for seed in SAMPLING_SEEDS:
        samples, labels = generate_per_class(state, generator, PER_CLASS, seed=seed)
        tstrs.append(accuracy(list(samples), labels, real.sequences, real.labels, int(state["num_features"])))
    tstr = float(np.mean(tstrs))
    return {"epoch": int(state["epoch"]), "tstr": tstr, "tstr_sd": float(np.std(tstrs, ddof=1)),
            "ratio": tstr / yardstick, "yardstick": yardstick}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--datasets", default="dollar-gds,jk2017-kinect")
    parser.add_argument("--points", help="wall-clock training points, for every data set "
                        f"(default: {'; '.join(f'{k} {v}' for k, v in POINTS.items())})")
    parser.add_argument("--recipe", action="append", default=[], metavar="NAME=FLAGS",
                        help="a recipe to measure: its name and the training flags it adds (repeatable); "
                        "default: the reference's settings alone")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "time_to_quality"))
    args = parser.parse_args()
    recipes = dict(r.split("=", 1) for r in args.recipe) if args.recipe else RECIPES  # NAME=FLAGS: no "=" in NAME
    out = Path(args.out)
    warm_caches()
    for dataset in args.datasets.split(","):
        points = [seconds(p) for p in (args.points or POINTS[dataset]).split(",")]
        yardsticks = Yardsticks(dataset, args.datapath)
        for name, flags in recipes.items():
            folder = out / f"{dataset}-{name}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "recipe.json").write_text(json.dumps({"dataset": dataset, "recipe": name, "flags": flags}))
            log = folder / "points.jsonl"
            measured = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
            for point in points[len(measured):]:
                path = train_to(dataset, args.datapath, flags.split(), point, folder, args.threads)
                row = {"seconds": point, **measure(path, yardsticks)}
                with log.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                measured.append(row)
                print(f"{dataset} {name}: {point / 60:.1f} min, epoch {row['epoch']}, TSTR {row['tstr']:.3f} "
                      f"({row['ratio']:.2f} of the yardstick {row['yardstick']:.3f})", flush=True)
    curves = measured_in(out)
    text = table(curves) + "\n\n" + LEGEND
    print(text)
    (out / "summary.md").write_text(text + "\n")
    plot(curves, out / "time_to_quality.png")


def measured_in(out: Path) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every curve measured in `out` (by this run or an earlier one): (data set, recipe) → its points."""
    curves = {}
    for recipe in sorted(out.glob("*/recipe.json"), key=lambda p: p.stat().st_mtime):
        about = json.loads(recipe.read_text())
        log = recipe.parent / "points.jsonl"
        rows = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
        if rows:
            curves[(about["dataset"], about["recipe"])] = rows
    return curves


def table(curves: dict[tuple[str, str], list[dict[str, Any]]]) -> str:
    """The curves as a Markdown table: one row per data set and recipe, one column per point of training time."""
    lines = []
    for dataset in dict.fromkeys(d for d, _ in curves):
        rows = {name: r for (d, name), r in curves.items() if d == dataset}
        points = max(rows.values(), key=len)
        lines += ["", f"| {dataset} | " + " | ".join(f"{r['seconds'] / 60:g} min" for r in points) + " |",
                  "|---|" + "---:|" * len(points)]
        for name, measured in rows.items():
            lines.append(f"| {name} | " + " | ".join(f"{r['ratio']:.2f} ± {r['tstr_sd'] / r['yardstick']:.2f} "
                                                     f"({r['epoch']})" for r in measured) + " |")
    return "\n".join(lines)


def plot(curves: dict[tuple[str, str], list[dict[str, Any]]], path: Path) -> None:
    """The curves, one panel per data set, with the 0.9 and 0.97 targets dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({d for d, _ in curves})
    names = list(dict.fromkeys(name for _, name in curves))
    colours = {name: f"C{i}" for i, name in enumerate(names)}  # a recipe has one colour in every panel
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.6), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        for (d, name), rows in curves.items():
            if d == dataset and rows:
                ax.errorbar(np.array([r["seconds"] for r in rows]) / 60, [r["ratio"] for r in rows],
                            yerr=[r["tstr_sd"] / r["yardstick"] for r in rows], marker="o", capsize=2,
                            label=name, color=colours[name])
        for level in (0.9, 0.97):
            ax.axhline(level, color="grey", linestyle=":", linewidth=1)
        ax.set(title=dataset, xlabel="training time (min)", ylabel="TSTR / yardstick", ylim=(0, 1.05))
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
