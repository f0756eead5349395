"""Time to quality: TSTR / yardstick of a generator trained from scratch, at fixed points of wall-clock training.

    python benchmarks/time_to_quality.py                                   # both data sets, the recipes below
    python benchmarks/time_to_quality.py --datasets jk2017-kinect --points 1m,2m,5m
    python benchmarks/time_to_quality.py --recipe "lr1e-3=--lr=1e-3" --recipe "reference="
    nohup python benchmarks/time_to_quality.py > time_to_quality.log 2>&1 &

Each recipe (a name and the training flags it adds to the reference's defaults)
trains with `python main.py` in segments: `--time-limit` up to the next point,
then `--resume` for the next, so evaluation never counts as training time. At
every point the checkpoint is measured with the same recogniser as `--metrics`
(`--num-per-class` 10 samples per class from a fixed latent, tested on every
real sample, beside the subject-disjoint yardstick). The recipes of a data set
run one after the other on the same machine; for a fair comparison keep the
machine otherwise idle (the time limits are wall-clock).

Resumable: every measured point is appended to `OUT/<dataset>-<recipe>/points.jsonl`
and the segment's checkpoint kept, so a restart continues from the last point.
Prints the curves side by side and writes `OUT/time_to_quality.png`.
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
sys.path.insert(0, str(ROOT))

from deepnag import checkpoint  # noqa: E402
from deepnag.config import DURATION_UNITS  # noqa: E402
from deepnag.data import load_raw  # noqa: E402
from deepnag.evaluation.metrics import subject_disjoint_yardstick  # noqa: E402
from deepnag.evaluation.recognizers import accuracy  # noqa: E402
from deepnag.evaluation.sampling import generate_per_class, load_generator  # noqa: E402

RECIPES = {"reference": ""}
"""Recipes measured by default: name → extra training flags (the reference's defaults: none)."""
PER_CLASS = 10


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


def measure(path: Path, real, yardstick: float) -> dict[str, Any]:
    state = checkpoint.load(path)
    generator = load_generator(state, str(path))
    samples, labels = generate_per_class(state, generator, PER_CLASS, seed=0)
    tstr = accuracy(list(samples), labels, real.sequences, real.labels, int(state["num_features"]))
    return {"epoch": int(state["epoch"]), "tstr": tstr, "ratio": tstr / yardstick}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--datasets", default="dollar-gds,jk2017-kinect")
    parser.add_argument("--points", default="2m,5m,10m,15m,30m", help="wall-clock training points")
    parser.add_argument("--recipe", action="append", default=[], metavar="NAME=FLAGS",
                        help="a recipe to measure: its name and the training flags it adds (repeatable); "
                        "default: the reference's settings alone")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "time_to_quality"))
    args = parser.parse_args()
    recipes = dict(r.split("=", 1) for r in args.recipe) if args.recipe else RECIPES
    points = [seconds(p) for p in args.points.split(",")]
    out = Path(args.out)
    curves: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for dataset in args.datasets.split(","):
        real = load_raw(dataset, args.datapath)
        yardstick = subject_disjoint_yardstick(real.sequences, real.labels, real.subjects, real.num_features)
        for name, flags in recipes.items():
            folder = out / f"{dataset}-{name}"
            folder.mkdir(parents=True, exist_ok=True)
            log = folder / "points.jsonl"
            measured = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
            for point in points[len(measured):]:
                path = train_to(dataset, args.datapath, flags.split(), point, folder, args.threads)
                row = {"seconds": point, **measure(path, real, yardstick), "yardstick": yardstick}
                with log.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                measured.append(row)
                print(f"{dataset} {name}: {point / 60:.1f} min, epoch {row['epoch']}, TSTR {row['tstr']:.3f} "
                      f"({row['ratio']:.2f} of the yardstick {yardstick:.3f})", flush=True)
            curves[(dataset, name)] = measured
    print(f"\n{'data set':16s} {'recipe':16s} " + " ".join(f"{p / 60:>8g}m" for p in points))
    for (dataset, name), rows in curves.items():
        print(f"{dataset:16s} {name:16s} " + " ".join(f"{r['ratio']:>9.2f}" for r in rows))
    print("(TSTR / yardstick at each point of training time; 0.9 and 0.97 are the targets)")
    plot(curves, out / "time_to_quality.png")


def plot(curves: dict[tuple[str, str], list[dict[str, Any]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({d for d, _ in curves})
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.6), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        for (d, name), rows in curves.items():
            if d == dataset and rows:
                ax.plot(np.array([r["seconds"] for r in rows]) / 60, [r["ratio"] for r in rows], marker="o", label=name)
        for level in (0.9, 0.97):
            ax.axhline(level, color="grey", linestyle=":", linewidth=1)
        ax.set(title=dataset, xlabel="training time (min)", ylabel="TSTR / yardstick", ylim=(0, 1.05))
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
