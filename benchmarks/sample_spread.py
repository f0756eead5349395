"""How widely a generator's samples spread, and how near they come to unseen writers, beside the chain (#37).

    python -m benchmarks.sample_spread --out benchmarks/results/augmentation/learned --folds "*-w2-*"

For every fold of an `augmentation.py` --out folder and every generator it
holds (the fold's own, and each variant under `variants/NAME`), with samples as
the learned recogniser sees them (`gru_recognizer.standardise`: 16 points along
the path, centred, unit radius), flattened to vectors:

- spread: per class, the mean distance between two of its samples, as a ratio
  to that of the seen writers' real samples (median over classes, and the
  narrowest class); for 160 generator samples per class and for 160 chained
  variants of the real samples (the same count, for comparison);
- reach: for every sample of the held-out writers, the distance to the nearest
  sample of its class in the training set (the real samples of the seen
  writers, plus the 160 added), as a ratio to real alone (mean over samples):
  below 1 when the added samples come nearer to unseen writers than the real
  ones do.

Nothing is trained; a fold's generators are those augmentation.py and
augmentation_options.py trained.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.augmentation_options import best_of, fold_folders
from deepnag import checkpoint
from deepnag.data import RawGestures, chain, load_raw, subjects
from deepnag.generate.sampling import generate_per_class, load_generator
from deepnag.recognition.gru_recognizer import standardise

ROOT = Path(__file__).resolve().parent.parent
ADDED = 160  # samples added per class, as in the study's largest count


def _vectors(samples) -> np.ndarray:
    x = standardise(list(samples))
    return x.reshape(len(x), -1).astype(np.float64)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of a and b (A, B)."""
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


def spread(x: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """Per class, the mean distance between two distinct samples of it (C,)."""
    out = np.empty(classes)
    for c in range(classes):  # one matrix per class: classes are few
        d = _distances(x[labels == c], x[labels == c])
        n = len(d)
        out[c] = d.sum() / max(n * (n - 1), 1)
    return out


def reach(train: np.ndarray, train_labels: np.ndarray, test: np.ndarray, test_labels: np.ndarray,
          classes: int) -> np.ndarray:
    """For every test sample, the distance to the nearest training sample of its class."""
    out = np.empty(len(test))
    for c in range(classes):
        mine = test_labels == c
        out[mine] = _distances(test[mine], train[train_labels == c]).min(axis=1)
    return out


def measure(path: Path, raw: RawGestures) -> dict[str, float]:
    """Spread and reach of one fold generator's samples, and of the chain of its seen writers' samples (`raw`: the
    data set's every sample)."""
    state = checkpoint.load(path)
    generator = load_generator(state, str(path))
    every = raw.select(checkpoint.config_of(state).classes)
    seen_names = checkpoint.training_subjects(state)
    classes = len(state["class_names"])
    seen = subjects.keep(every, seen_names)
    test = np.flatnonzero(~np.isin(np.asarray(every.subjects), list(seen_names)))
    real, real_labels = _vectors(seen.sequences), np.asarray(seen.labels)
    held, held_labels = _vectors([every.sequences[i] for i in test]), np.asarray(every.labels)[test]
    samples, labels = generate_per_class(state, generator, ADDED, 0)
    chained, chain_labels = chain.per_class(seen.sequences, seen.labels, ADDED, np.random.default_rng(0), classes)
    base_spread = spread(real, real_labels, classes)
    base_reach = reach(real, real_labels, held, held_labels, classes)
    result = {"epochs": int(state["epoch"])}
    for name, (x, y) in {"generator": (_vectors(samples), labels), "chain": (_vectors(chained), chain_labels)}.items():
        ratio = spread(x, y, classes) / base_spread
        nearer = reach(np.concatenate([real, x]), np.concatenate([real_labels, y]), held, held_labels, classes)
        result |= {f"{name}_spread_median": float(np.median(ratio)), f"{name}_spread_min": float(ratio.min()),
                   f"{name}_reach": float(np.mean(nearer / np.maximum(base_reach, 1e-12)))}
    return result


def generators_of(folder: Path) -> dict[str, Path]:
    """The fold's own generator ("fold") and its variants', by name."""
    found = {"fold": best_of(folder / "logs")}
    for trained in sorted((folder / "variants").glob("*/trained.json")):
        found[trained.parent.name] = trained.parent / json.loads(trained.read_text())["checkpoint"]
    return {name: path for name, path in found.items() if path is not None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="an augmentation.py --out folder")
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--folds", default="*", metavar="PATTERN", help="a glob of the folds' folder names")
    args = parser.parse_args()
    folds = [p for p in fold_folders(args.out, args.folds) if (p / "result.json").is_file()]
    if not folds:
        raise SystemExit(f"no finished fold matching {args.folds!r} under {args.out}")
    print("| fold | generator | epochs | spread: generator (median / narrowest class) | spread: chain | "
          "reach: real + generator | reach: real + chain |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for folder in folds:
        raw = load_raw(json.loads((folder / "result.json").read_text())["dataset"], args.datapath)  # once per fold
        for name, path in generators_of(folder).items():
            m = measure(path, raw)
            print(f"| {folder.name} | {name} | {m['epochs']} | {m['generator_spread_median']:.2f} / "
                  f"{m['generator_spread_min']:.2f} | {m['chain_spread_median']:.2f} / {m['chain_spread_min']:.2f} | "
                  f"{m['generator_reach']:.3f} | {m['chain_reach']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
