"""MiniRocket's rows of the held-out-writer study (#54) on the shipped two-writer models of the three data sets.

    python -m benchmarks.minirocket_study --datapath=../shared/data --seeds=5
    python -m benchmarks.minirocket_study --datapath=../shared/data --yardsticks

`deepnag.study(checkpoint, MiniRocket())`: 1-NN and MiniRocket (aeon's, the `aeon` extra) trained on the two seen
writers' real samples alone and with 160 synthetic samples per class of each kind (the count the findings compare
at), tested on every other writer, over `--seeds` sampling seeds (MiniRocket's `random_state` each seed). The GRU's
rows of the same models and seeds are in benchmarks/results/metrics_table/shipped/. Writes
OUT/<model>.json ({"dataset", "model", "study", "seconds"}); a model already there is skipped (resumable).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import deepnag
from deepnag.recognition.minirocket import MiniRocket

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"dollar-gds": "dollar-gds-2-writers", "jk2017-kinect": "jk2017-kinect-2-writers",
          "jk2017-leap": "jk2017-leap-2-writers"}


def yardsticks(datapath: str, out: Path) -> None:
    """The real-data yardstick (subject-disjoint halves, both ways, seed 0, as --metrics) of the 1-NN recogniser, the
    GRU and MiniRocket on each data set, to OUT/yardsticks.json."""
    from deepnag.data import load_raw
    from deepnag.evaluation.metrics import subject_disjoint_yardstick
    from deepnag.recognition.gru_recognizer import GRURecognizer

    found = {}
    for dataset in MODELS:
        raw = load_raw(dataset, datapath)
        found[dataset] = {name: subject_disjoint_yardstick(raw.sequences, raw.labels, raw.subjects, raw.num_features,
                                                           0, recognizer)
                          for name, recognizer in (("1-NN", None), ("GRURecognizer", GRURecognizer()),
                                                   ("MiniRocket", MiniRocket()))}
        print(dataset, found[dataset], flush=True)
    (out / "yardsticks.json").write_text(json.dumps(found, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--datasets", nargs="+", default=list(MODELS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "minirocket")
    parser.add_argument("--yardsticks", action="store_true", help="measure the three recognisers' yardsticks instead")
    args = parser.parse_args(argv)
    if args.yardsticks:
        return yardsticks(args.datapath, args.out)
    for dataset in args.datasets:
        path = args.out / f"{MODELS[dataset]}.json"
        if path.exists():
            continue
        started = time.perf_counter()
        study = deepnag.study(ROOT / "pretrained_models" / "DeepNAG" / MODELS[dataset] / "generator.pt", MiniRocket(),
                              datapath=args.datapath, seeds=args.seeds, counts=(160,))
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"dataset": dataset, "model": MODELS[dataset], "study": study.result,
                                    "seconds": round(time.perf_counter() - started, 1)}, indent=2) + "\n")
        print(study.table, flush=True)


if __name__ == "__main__":
    main()
