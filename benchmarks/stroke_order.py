"""Does `--stroke-order=canonical` help a generator learn MMG classes drawn in several orders? $P TSTR per class.

    python -m benchmarks.stroke_order RUN_DRAWN/checkpoints/checkpoint-epoch-100.pt \
        RUN_CANONICAL/checkpoints/checkpoint-epoch-100.pt --datapath=../shared/data --seeds=5 \
        --out=benchmarks/results/stroke_order/stars.json

For each checkpoint: `--per-class` generated samples per class (seeds 1 … `--seeds`, one draw each) train $P, which
is tested on every real sample of the checkpoint's classes (all writers, its device and speeds); prints each class's
accuracy, mean ± sd over the seeds, and the checkpoint's `stroke_order`. $P is blind to stroke order and direction,
so the canonical model's samples are measured against the real ones as drawn.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from deepnag import checkpoint
from deepnag.data import RawGestures, load_raw
from deepnag.evaluation.metrics import tstr_per_class
from deepnag.generate.sampling import generate_per_class, load_generator


def per_class_tstr(path: Path, datapath: str, per_class: int, seeds: int,
                   loaded: dict[tuple, RawGestures] | None = None) -> dict:
    """(seeds, classes) $P accuracies of one checkpoint's samples on the real ones, with what the checkpoint is.

    `loaded` keeps the real data read for earlier checkpoints of the same speeds and device (read once, not per
    checkpoint)."""
    state = checkpoint.load(path)
    saved = checkpoint.config_of(state)
    names = tuple(state["class_names"])
    loaded = {} if loaded is None else loaded
    key = (saved.speeds, saved.mmg_device)
    if key not in loaded:
        loaded[key] = load_raw("mmg", datapath, speeds=saved.speeds, mmg_device=saved.mmg_device)
    real = loaded[key].select(names)
    generator = load_generator(state, str(path))
    accuracy = np.empty((seeds, len(names)))
    for row, seed in enumerate(range(1, seeds + 1)):
        fake, labels = generate_per_class(state, generator, per_class, seed)
        accuracy[row] = tstr_per_class(fake, labels, list(real.sequences), np.asarray(real.labels), len(names))[1]
    return {"checkpoint": str(path), "epoch": int(state["epoch"]), "stroke_order": saved.stroke_order,
            "classes": list(names), "accuracy": accuracy.tolist()}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--datapath", default="data")
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    loaded: dict[tuple, RawGestures] = {}
    results = [per_class_tstr(path, args.datapath, args.per_class, args.seeds, loaded) for path in args.checkpoints]
    for result in results:
        accuracy = np.asarray(result["accuracy"])
        cells = ", ".join(f"{name} {accuracy[:, c].mean():.3f} ± {accuracy[:, c].std(ddof=1):.3f}"
                          for c, name in enumerate(result["classes"]))
        overall = accuracy.mean(axis=1)
        print(f"{result['stroke_order']:9s} epoch {result['epoch']:4d}: {cells}; all {overall.mean():.3f} ± "
              f"{overall.std(ddof=1):.3f} ({result['checkpoint']})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        command = "python -m benchmarks.stroke_order " + " ".join(argv if argv is not None else sys.argv[1:])
        args.out.write_text(json.dumps({"command": command, "per_class": args.per_class, "seeds": args.seeds,
                                        "results": results}, indent=1) + "\n")
    return results


if __name__ == "__main__":
    main()
