"""In how many orders is each MMG class drawn, and does a generator do worse on the classes drawn in many? (#53)

    python -m benchmarks.mmg_drawing_orders --datapath=../shared/data \
        --metrics=pretrained_models/DeepNAG/mmg-2-writers/evaluation/metrics.json \
        --out=benchmarks/results/mmg_drawing_orders/mmg-2-writers.json

Each real sample (MMG as --dataset=mmg reads it by default: both devices, medium speed) is written as its drawing
order, one code per stroke in drawing order: `dot` for a stroke with no length, `cw` or `ccw` for a closed stroke (its ends nearer than a quarter of its
length; the sign of its signed area, y down), else the compass direction from its first point to its last (E, S, W,
N; y down). Per class: how many distinct orders, the share of the most common one, and the class's TSTR with $P from
the --metrics file of a checkpoint (`tstr_accuracy_per_class`). The generator learns sequences point by point, so a
class drawn in many orders is many shapes to it, which $P (blind to order and direction) sees as one. Prints a table
and the rank correlation of the two columns; writes OUT (JSON).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from deepnag.data import load_raw, mmg

CLOSED = 0.25
"""A stroke is closed when its ends are nearer than this share of its length."""


def stroke_code(stroke: np.ndarray) -> str:
    """A stroke (T, ≥1) as `dot` when it has no length, `cw`/`ccw` when closed, else the compass direction from its
    first point to its last."""
    xy = np.asarray(stroke, dtype=np.float64)[:, :2]
    length = np.linalg.norm(np.diff(xy, axis=0), axis=1).sum()
    if length == 0:
        return "dot"
    chord = xy[-1] - xy[0]
    if np.linalg.norm(chord) < CLOSED * length:
        area = np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1])
        return "cw" if area > 0 else "ccw"  # y down: a positive shoelace sum turns clockwise on screen
    angle = np.degrees(np.arctan2(chord[1], chord[0])) % 360
    return "ESWN"[int(((angle + 45) % 360) // 90)]


def drawing_order(sample: np.ndarray) -> str:
    """A sample's strokes as codes, in drawing order, e.g. `cw ccw`."""
    return " ".join(stroke_code(stroke) for stroke in mmg.strokes_of(sample))


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho: Pearson's correlation of the ranks (ties broken by order)."""
    ranks = [np.argsort(np.argsort(v)).astype(np.float64) for v in (a, b)]
    return float(np.corrcoef(*ranks)[0, 1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datapath", default="../shared/data")
    parser.add_argument("--metrics", type=Path, help="a checkpoint's metrics.json, for its TSTR per class")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    real = load_raw("mmg", args.datapath)
    tstr = json.loads(args.metrics.read_text())["tstr_accuracy_per_class"] if args.metrics else None
    rows = []
    for index, name in enumerate(real.class_names):
        orders = Counter(drawing_order(s) for s, label in zip(real.sequences, real.labels) if label == index)
        total = sum(orders.values())
        rows.append({"class": name, "samples": total, "orders": len(orders),
                     "top_share": orders.most_common(1)[0][1] / total,
                     "most_common": [[order, count] for order, count in orders.most_common(3)],
                     "tstr": None if tstr is None else float(tstr[index])})
    result = {"metrics": str(args.metrics) if args.metrics else None, "classes": rows}
    print("| class | orders | most common (share) | TSTR ($P) |\n|---|---|---|---|")
    for row in sorted(rows, key=lambda r: r["top_share"]):
        order, count = row["most_common"][0]
        tstr_text = "" if row["tstr"] is None else f"{row['tstr']:.2f}"
        print(f"| {row['class']} | {row['orders']} | {order} ({row['top_share']:.2f}) | {tstr_text} |")
    if tstr is not None:
        result["rank_correlation"] = rank_correlation(np.array([r["top_share"] for r in rows]),
                                                      np.array([r["tstr"] for r in rows]))
        print(f"\nrank correlation of the most common order's share and the class's TSTR: "
              f"{result['rank_correlation']:+.2f} over {len(rows)} classes")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
