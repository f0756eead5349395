"""The options of `benchmarks.augmentation_options`, measured on one checkpoint's held-out writers with both recognisers.

    python -m benchmarks.checkpoint_options pretrained_models/DeepNAG/dollar-gds-2-writers-chain4/generator.pt \\
        --options "chain + generator share 0.25,½ chain + ½ generator → chain" --out benchmarks/results/checkpoint_options

Where `augmentation_options` takes the benchmark's folds, this takes a checkpoint
trained on some writers (a shipped two-writer model, say) and runs the study its
`--metrics` runs, with the same seeds (the checkpoint's `--seed`), so the real,
GPSR, chain and generator rows are those of its metrics.json, plus one row kind
per option, at `--counts` added per class; the learned recogniser over its
three seeds. `--seeds N` repeats both recognisers over N seeds (the first of
them --metrics's), for differences smaller than three seeds can tell apart.
Writes `OUT/<name>.json` (name: the checkpoint's folder; `<name>-seeds-N.json`
with --seeds) and prints, per option and recogniser, the error beside the
chain's and the difference from the chain paired by seed: an option that adds
variation the chain cannot has it below zero in every seed. `chain + generator
share 0` is the chain drawn a second time: its difference from the chain is
what a redraw alone moves, and each `chain + generator share P` is then also
paired with it (the same chained draws in the places they share), as the
study's ½ chain ½ gen is with its chain.

    python -m benchmarks.checkpoint_options --summary benchmarks/results/checkpoint_options/*-seeds-12.json
    python -m benchmarks.checkpoint_options --summary --versus "½ chain + ½ generator → chain" FILES

prints the table of `PAIRS` for result files written before (the README's); `--versus` adds a column per option,
paired with the chain of its own draws.

Resumable: options already in OUT/<name>.json are kept (their real and simple
rows are checked against the new measurement), only the missing ones measured.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.augmentation import TSTR_PER_CLASS
from benchmarks.augmentation_options import merged_study, options_for
from deepnag import checkpoint
from deepnag.atomic import atomic_write
from deepnag.data import load_raw
from deepnag.errors import UserError
from deepnag.evaluation.augmentation import with_current_names
from deepnag.evaluation.report import held_out
from deepnag.generate.sampling import generate_per_class, load_generator

ROOT = Path(__file__).resolve().parent.parent


def name_of(path: Path) -> str:
    """What a checkpoint's results are named for: its folder, or its run's where that is a run's `checkpoints/`."""
    return path.parent.parent.name if path.parent.name == "checkpoints" else path.parent.name


def measure(path: Path, datapath: str, names: list[str], counts: tuple[int, ...], seeds: int | None = None,
            learned_steps: int | None = None, learned_seeds: int | None = None) -> dict[str, Any]:
    """The checkpoint's held-out study with the options as rows, both recognisers: over `seeds` seeds each, or (None)
    over --metrics's (5 for 1-NN, the first 3 of them for the learned one); `learned_seeds`: the learned one's over
    the first that many instead (0: the 1-NN recogniser alone)."""
    try:
        state = checkpoint.load(path)
    except checkpoint.CheckpointError as error:
        raise SystemExit(str(error)) from None
    if checkpoint.training_subjects(state) is None:
        raise SystemExit(f"{path}: the checkpoint does not record its training writers, so it has no held-out writers")
    saved = checkpoint.config_of(state)
    generator = load_generator(state, str(path))
    try:
        every = load_raw(saved.dataset, datapath, speeds=saved.speeds,
                         subject_pattern=saved.subject_pattern).select(saved.classes)
    except UserError as error:
        raise SystemExit(f"--datapath: {error}") from None
    samples, labels = generate_per_class(state, generator, TSTR_PER_CLASS, saved.seed)
    study = held_out(state, every, saved.max_per_class, generator, samples, labels, saved.seed,
                     options_for(state, generator, names), counts=counts, learned_steps=learned_steps,
                     learned=learned_seeds != 0,
                     **({} if seeds is None else {"runs": seeds}),
                     **({} if seeds is None and learned_seeds is None else {"learned_seeds": learned_seeds or seeds}))
    return {"checkpoint": str(path), "dataset": saved.dataset, "epoch": int(state["epoch"]), "study": study}


def run(path: Path, datapath: str, names: list[str], counts: tuple[int, ...], out: Path, seeds: int | None = None,
        learned_steps: int | None = None, learned_seeds: int | None = None) -> dict[str, Any]:
    """OUT/<name>.json (<name>-seeds-N.json over N seeds, <name>-seeds-N-learned-M.json with the learned recogniser
    over M of them) with every option in `names` (measured where missing)."""
    learned = "" if learned_seeds is None or learned_seeds == seeds else f"-learned-{learned_seeds}"
    done = out / f"{name_of(path)}{'' if seeds is None else f'-seeds-{seeds}'}{learned}.json"
    result = json.loads(done.read_text()) if done.is_file() else None
    result = {**result, "study": with_current_names(result["study"])} if result else None
    have = {r["added"] for r in (result["study"]["learned"] or result["study"])["rows"]} if result else set()
    if result and (measured := sorted({r["per_class"] for r in result["study"]["rows"]})) != list(counts):
        raise SystemExit(f"{done}: measured at --counts={','.join(map(str, measured))}; ask for those, or give "
                         "another --out")
    missing = [n for n in names if n not in have]
    if not missing:
        return result
    print(f"{name_of(path)}: {', '.join(missing)}", flush=True)
    new = measure(path, datapath, missing, counts, seeds, learned_steps, learned_seeds)
    if result is not None:
        for part in ("", "learned")[:1 + (result["study"]["learned"] is not None)]:
            result["study"] = merged_study(result["study"], new["study"], part, "", done, only=set(missing))
    else:
        result = new
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(done, lambda file: file.write((json.dumps(result, indent=1) + "\n").encode()))
    return result


def versus_chain(result: dict[str, Any], count: int) -> list[str]:
    """Markdown rows: per recogniser and row kind, the error and its difference from the chain's, paired by seed."""
    lines = ["| checkpoint | recogniser | added | error | − chain (mean, min…max) | seeds below the chain |",
             "|---|---|---|---:|---:|---:|"]
    name = name_of(Path(result["checkpoint"]))
    for part in filter(None, (result["study"], result["study"]["learned"])):
        rows = {r["added"]: r for r in part["rows"] if r["per_class"] == count}
        chain = rows["chain"]["errors"]
        for added, row in rows.items():
            errors = row["errors"]
            diff = [a - b for a, b in zip(errors, chain)]
            mean = sum(errors) / len(errors)
            lines.append(f"| {name} | {part['recognizer']} | {added} | {mean:.3f} | {sum(diff) / len(diff):+.4f} "
                         f"({min(diff):+.4f}…{max(diff):+.4f}) | {sum(d < 0 for d in diff)} / {len(diff)} |")
    return lines


PAIRS = (("chain-mix", "chain", "chain-mix − chain"),
         ("chain + generator share 0.5", "chain + generator share 0", "the same, second draws"),
         ("chain + generator share 0.25", "chain + generator share 0", "¾ chain ¼ gen − chain, second draws"),
         ("chain + generator share 0", "chain", "chain redrawn − chain"))
"""(row, the row it is paired with, column title) of `against_own_chain`: each mix against the chain of the same
draws (the study's ½ chain ½ gen against its chain; a share against `chain + generator share 0`), and one draw of the
chain against another (what a redraw alone moves)."""
RECOGNISERS = {"Protractor": "Protractor", "JackknifeDTW": "Jackknife-DTW", "GRURecognizer": "GRU"}


def against_own_chain(results: list[dict[str, Any]], count: int | None = None, versus: Sequence[str] = ()) -> list[str]:
    """Markdown table, a row per checkpoint and recogniser: each of `PAIRS` (and each option in `versus`, against the
    chain of its own draws, `chain + generator share 0`) as the mean difference paired by seed ± twice its standard
    error, ▼ / ▲ where that interval is below / above zero, (seeds below / above); n/a where a row was not
    measured. At `count` added per class (None: each result's largest)."""
    pairs = PAIRS + tuple((name, "chain + generator share 0", f"{name} − chain, second draws") for name in versus)
    lines = ["| checkpoint | recogniser | seeds | chain | " + " | ".join(title for *_, title in pairs) + " |",
             "|---|---|---:|---:|" + "---:|" * len(pairs)]
    for result in results:
        name = name_of(Path(result["checkpoint"]))
        for part in filter(None, (result["study"], result["study"]["learned"])):
            at = count if count is not None else max(r["per_class"] for r in part["rows"])
            rows = {r["added"]: np.asarray(r["errors"]) for r in part["rows"] if r["per_class"] == at}
            cells = []
            for mix, chain, _ in pairs:
                if mix not in rows or chain not in rows:
                    cells.append("n/a")
                    continue
                diff = rows[mix] - rows[chain]
                se2 = 2 * float(diff.std(ddof=1)) / np.sqrt(len(diff))
                mark = " ▼" if diff.mean() + se2 < 0 else " ▲" if diff.mean() - se2 > 0 else ""
                cells.append(f"{diff.mean():+.4f} ± {se2:.4f}{mark} ({int((diff < 0).sum())}/{int((diff > 0).sum())})")
            recogniser = RECOGNISERS.get(part["recognizer"], part["recognizer"])
            lines.append(f"| {name} | {recogniser} | {len(rows['chain'])} | {rows['chain'].mean():.3f} | "
                         + " | ".join(cells) + " |")
    return lines


def summary(args: argparse.Namespace, versus: list[str]) -> None:
    """--summary: the paired table of result files written before (files of the mixes' former names included)."""
    missing = [str(p) for p in args.checkpoints if not p.is_file()]
    if missing:
        raise SystemExit(f"{missing[0]}: no such result file")
    if args.counts and not args.counts.split(",")[-1].strip().isdigit():
        raise SystemExit(f"--counts takes positive whole numbers, got {args.counts!r}")
    count = int(args.counts.split(",")[-1]) if args.counts else None
    try:
        results = [json.loads(p.read_text()) for p in args.checkpoints]
        results = [{**r, "study": with_current_names(r["study"])} for r in results]
        print("\n".join(against_own_chain(results, count, versus)))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SystemExit(f"--summary: not a result file of this benchmark ({type(error).__name__}: {error})") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path, metavar="CHECKPOINT",
                        help="checkpoints to measure (with --summary: result files this wrote)")
    parser.add_argument("--options", help="comma-separated option names (augmentation_options')")
    parser.add_argument("--out", type=Path, help="folder of the results, one JSON per checkpoint")
    parser.add_argument("--summary", action="store_true",
                        help="measure nothing: print the paired table of the result files given")
    parser.add_argument("--versus", metavar="OPTION,OPTION",
                        help="a column more in the paired table per option, its difference from the chain of its own "
                        "draws (`chain + generator share 0`), paired by seed")
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--counts", metavar="K,K",
                        help="samples added per class (default: 160; with --summary, the last: the one shown, "
                        "default each file's largest)")
    parser.add_argument("--seeds", type=int, default=None, metavar="N",
                        help="seeds of both recognisers (the checkpoint's --seed and the N − 1 after it; default: "
                        "--metrics's, 5 for 1-NN and the first 3 for the learned one)")
    parser.add_argument("--learned-seeds", type=int, default=None, metavar="M",
                        help="the learned recogniser over the first M of the seeds only (0: the 1-NN recogniser alone)")
    parser.add_argument("--learned-steps", type=int, default=None, metavar="N",
                        help="optimiser steps of each fit of the learned recogniser (default: the study's; fewer for a "
                        "quick look, not for figures)")
    args = parser.parse_args()
    versus = [n.strip() for n in (args.versus or "").split(",") if n.strip()]
    if args.summary:
        summary(args, versus)
        return
    if not args.options or args.out is None:
        raise SystemExit("give --options and --out (or --summary with result files)")
    if args.seeds is not None and args.seeds < 2:
        raise SystemExit(f"--seeds takes N >= 2 (a spread needs two), got {args.seeds}")
    if args.learned_seeds is not None and not 0 <= args.learned_seeds <= (args.seeds or 3):
        raise SystemExit(f"--learned-seeds takes 0 to the number of seeds ({args.seeds or 3}), got {args.learned_seeds}")
    if args.learned_steps is not None and args.learned_steps < 1:
        raise SystemExit(f"--learned-steps takes N >= 1, got {args.learned_steps}")
    try:
        counts = tuple(sorted({int(c) for c in (args.counts or "160").split(",") if c.strip()}))
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise SystemExit(f"--counts takes positive whole numbers, got {args.counts!r}")
    names = [n.strip() for n in args.options.split(",") if n.strip()]
    if not names:
        raise SystemExit("--options names no option")
    for path in args.checkpoints:
        if not path.is_file():
            raise SystemExit(f"{path}: no such checkpoint file")
    for path in args.checkpoints:
        result = run(path, args.datapath, names, counts, args.out, args.seeds, args.learned_steps, args.learned_seeds)
        print("\n".join(versus_chain(result, counts[-1]) + [""] + against_own_chain([result], counts[-1], versus)),
              flush=True)


if __name__ == "__main__":
    main()
