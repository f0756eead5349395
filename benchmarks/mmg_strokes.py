"""Does the generator learn pen-ups (#53)? Stroke counts of generated MMG samples beside the real ones, per class.

    python -m benchmarks.mmg_strokes pretrained_models/DeepNAG/mmg/generator.pt --datapath=../shared/data \
        --out=benchmarks/results/mmg_strokes/mmg.json

For every class: the share of real samples (all writers, the checkpoint's device and speeds) with 1, 2, … strokes and
the same for `--per-class` generated samples (seeds 0, 1, … one draw each); `agreement` is the share of generated
samples whose stroke count is the class's most common real count, `real_agreement` the same share among the real
samples (the writers' own variety, the most a generator should reach). Writes OUT (JSON) and prints a table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from deepnag import checkpoint
from deepnag.data import load_raw, mmg
from deepnag.generate.sampling import generate_per_class, load_generator


def stroke_counts(samples) -> np.ndarray:
    """The number of strokes of each (T, 3) sample."""
    return np.array([len(mmg.strokes_of(s)) for s in samples])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--datapath", default="data")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    state = checkpoint.load(args.checkpoint)
    saved = checkpoint.config_of(state)
    real = load_raw("mmg", args.datapath, speeds=saved.speeds, mmg_device=saved.mmg_device)
    generator = load_generator(state, str(args.checkpoint))
    real_counts = stroke_counts(real.sequences)
    real_labels = np.asarray(real.labels)
    classes = range(len(real.class_names))
    usual = [np.bincount(real_counts[real_labels == c]).argmax() for c in classes]  # each class's usual count
    agreement = np.empty((args.seeds, len(usual)))  # per seed and class: share of generated samples with it
    generated = np.zeros((len(usual), 6), dtype=np.int64)  # generated samples with 1 … 6 strokes, over all seeds
    for seed in range(args.seeds):
        fake, labels = generate_per_class(state, generator, args.per_class, seed)
        counts = stroke_counts(fake)
        for c in classes:
            agreement[seed, c] = np.mean(counts[labels == c] == usual[c])
            generated[c] += np.bincount(counts[labels == c], minlength=7)[1:7]
    rows = [{"class": name, "agreement": float(agreement[:, c].mean()), "agreement_sd": float(agreement[:, c].std()),
             "real_agreement": float(np.mean(real_counts[real_labels == c] == usual[c])),
             "real_strokes_1_to_6": np.bincount(real_counts[real_labels == c], minlength=7)[1:7].tolist(),
             "generated_strokes_1_to_6": generated[c].tolist()} for c, name in enumerate(real.class_names)]
    per_seed = agreement.mean(axis=1)
    result = {"checkpoint": str(args.checkpoint), "epoch": int(state["epoch"]), "per_class": args.per_class,
              "seeds": args.seeds, "agreement": float(np.mean(per_seed)), "agreement_sd": float(np.std(per_seed)),
              "real_agreement": float(np.mean([r["real_agreement"] for r in rows])), "classes": rows,
              "command": "python -m benchmarks.mmg_strokes " + " ".join(argv if argv is not None else [])}
    print(f"{'class':18s} {'generated':>9s} {'real':>6s}  strokes 1-6 generated | real")
    for r in rows:
        print(f"{r['class']:18s} {r['agreement']:9.3f} {r['real_agreement']:6.3f}  {r['generated_strokes_1_to_6']} | "
              f"{r['real_strokes_1_to_6']}")
    print(f"all classes: {result['agreement']:.3f} ± {result['agreement_sd']:.3f} over {args.seeds} seeds "
          f"(real: {result['real_agreement']:.3f})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
