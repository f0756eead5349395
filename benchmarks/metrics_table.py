"""The held-out table of `--metrics` files: every recogniser, real alone beside each kind of added samples.

    python -m benchmarks.metrics_table benchmarks/results/metrics_table/shipped/*.metrics.json
    python -m benchmarks.metrics_table --count 32 A.metrics.json B.metrics.json

Reads the `metrics.json` that `python main.py --generate=CKPT --metrics=study` wrote for
a generator of some writers (its "augmentation" part: the held-out study) and
prints one Markdown row per file and recogniser: the held-out error at `--count`
added per class, mean ± sd over the study's seeds, for real alone, + GPSR,
+ chain, + the generator, + ½ GPSR ½ generator (`--synthesizer=mix`) and
+ ½ chain ½ generator (`--synthesizer=chain-mix`). A mark after a cell says how it
stands against real alone of the same seed: `▼` lower in every seed (it helps),
`▲` higher in every seed (it harms), none: the seeds disagree.

    python -m benchmarks.metrics_table --options "½ chain + ½ vetted generator 0.8" --tally \
        benchmarks/results/augmentation/vetted/*/*.json benchmarks/results/checkpoint_options/vetted_shipped/*.json

also reads the result files of `benchmarks.checkpoint_options` (named for their
folder where it names a fold, `<dataset>-w<w>-f<f>`), with a column for each
of `--options`' row kinds; `--tally` adds to each cell the seeds below and above
real alone (a cell with none above does no harm in any seed).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from pathlib import Path
from typing import Any

from deepnag.evaluation.augmentation import with_current_names

KINDS = {"gpsr": "+ GPSR", "chain": "+ chain", "generator": "+ generator", "mix": "+ mix", "chain-mix": "+ chain-mix",
         "vetted-chain-mix": "+ vetted-chain-mix"}
"""The study's row kinds (the synthesizers' names; files written before they had one are renamed on reading) and
their column titles."""


def study_of(path: Path) -> dict[str, Any]:
    """The held-out study of one metrics.json (or checkpoint_options result); an error when it has none."""
    report = json.loads(path.read_text())
    study = report.get("augmentation") or report.get("study")
    if not study:
        raise SystemExit(f"{path}: no held-out study in it (write it with --generate=CHECKPOINT --metrics=study on a "
                         "checkpoint of some writers only)")
    if study.get("leak"):
        raise SystemExit(f"{path}: its generator saw every writer, so it has no held-out rows")
    return {**with_current_names(study), "name": _name_of(path, "study" in report)}


def _name_of(path: Path, from_options: bool) -> str:
    """A file's row name: its own, or its fold's for a checkpoint_options result in a fold folder."""
    name = path.name.removesuffix(".json").removesuffix(".metrics")
    if from_options and re.fullmatch(r".+-w\d+-f\d+", path.parent.name):
        name = path.parent.name
    return name


def rows_of(path: Path, study: dict[str, Any], count: int, columns: tuple[str, ...],
            tally: bool = False) -> list[list[str]]:
    """The table's rows of one file's study (`study_of`): one per recogniser (1-NN, then the learned one when
    measured), a column per row kind in `columns`."""
    name = study["name"]
    parts = [study] + ([study["learned"]] if study.get("learned") else [])
    table = []
    for part in parts:
        real = part["real_errors"]
        cells = {r["added"]: r for r in part["rows"] if r["per_class"] == count}
        if not cells:
            raise SystemExit(f"{path}: no rows at {count} added per class (it has {sorted({r['per_class'] for r in part['rows']})})")
        spread = statistics.stdev(real) if len(real) > 1 else None
        table.append([name, part["recognizer"], _spread(statistics.fmean(real), spread)]
                     + [_cell(cells.get(kind), real if tally else None) for kind in columns])
    return table


def _spread(mean: float, sd: float | None) -> str:
    """mean ± sd, or the mean alone where there is one value."""
    return f"{mean:.3f}" if sd is None else f"{mean:.3f} ± {sd:.3f}"


def _cell(row: dict[str, Any] | None, real: list[float] | None = None) -> str:
    """A row's error summary (the study's own mean ± sd over seeds), marked ▼ / ▲ when every seed's error is below /
    above real alone's; with `real` (real alone's errors, one or one per seed) also the seeds below and above it."""
    if row is None:
        return "—"
    mark = " ▼" if row["reduction"]["min"] > 0 else " ▲" if row["reduction"]["max"] < 0 else ""
    if real is not None:
        paired = real if len(real) > 1 else real * len(row["errors"])
        below = sum(e < r for e, r in zip(row["errors"], paired))
        above = sum(e > r for e, r in zip(row["errors"], paired))
        mark += f" ({below}↓ {above}↑)"
    return f"{_spread(row['error']['mean'], row['error']['sd'] if len(row['errors']) > 1 else None)}{mark}"


def table(paths: list[Path], count: int, options: tuple[str, ...] = (), tally: bool = False) -> str:
    """The Markdown table of `paths` at `count` added per class (a column per option after the study's kinds; the
    vetted mix's only where a file has it)."""
    studies = {path: study_of(path) for path in paths}  # each file read once
    measured = {row["added"] for study in studies.values() for part in (study, study.get("learned") or {})
                for row in part.get("rows", ())}
    kinds = tuple(kind for kind in KINDS if kind != "vetted-chain-mix" or kind in measured)
    head = ["metrics", "recogniser", "real alone", *(KINDS[kind] for kind in kinds), *(f"+ {o}" for o in options)]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    lines += ["| " + " | ".join(row) + " |" for path, study in studies.items()
              for row in rows_of(path, study, count, (*kinds, *options), tally)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("metrics", nargs="+", type=Path, help="metrics.json files written by --metrics")
    parser.add_argument("--count", type=int, default=160, help="samples added per class (the study's 8, 32 or 160)")
    parser.add_argument("--options", default="", help="comma-separated option rows to add as columns "
                        "(checkpoint_options' result files)")
    parser.add_argument("--tally", action="store_true", help="each cell also counts the seeds below and above real alone")
    args = parser.parse_args()
    for path in args.metrics:
        if not path.is_file():
            raise SystemExit(f"{path}: no such file")
    print(table(args.metrics, args.count, tuple(o.strip() for o in args.options.split(",") if o.strip()), args.tally))


if __name__ == "__main__":
    main()
