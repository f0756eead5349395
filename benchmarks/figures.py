"""The findings' figures and the "Which samples for my recogniser?" table, drawn from the committed result files.

    python -m benchmarks.figures            # writes docs/findings/figures/*.png, prints the table

Every held-out study file (`--metrics`, `benchmarks/augmentation.py`, `benchmarks/checkpoint_options.py`) holds a
`study` with rows of per-seed errors; one figure per findings page shows each option's held-out error (mean and sd
over seeds, pooled over folds) per data set and recogniser, beside real data alone. The table reads the shipped
two-writer models' 12-seed files: an option counts as better than the chain when its paired difference from the
chain is below zero by more than two standard errors (2·sd/√seeds).
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepnag.evaluation.augmentation import with_current_names  # noqa: E402
from deepnag.generate.synthesizers import SYNTHESIZERS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
OUT = ROOT / "docs" / "findings" / "figures"

MINIROCKET = "minirocket/*-2-writers.json"
"""MiniRocket's held-out study files (benchmarks/minirocket_study.py)."""

STUDIES = {
    "shipped-models": ["checkpoint_options/*-seeds-12.json"],
    "held-out-writers": ["augmentation/reference_schedule/*/result.json"],
    "learned-recogniser": ["augmentation/learned/*/result.json"],
    "vetting": ["augmentation/vetted/*/*.json"],
    "recipe-fast-folds": ["augmentation/fast/*/result.json"],
    "minirocket": [MINIROCKET],
}
"""Findings page → the result files its figure pools (relative to benchmarks/results/)."""

CLI_NAMES = {**{name: name for name in SYNTHESIZERS}, "½ chain + ½ vetted generator 1": "vetted-chain-mix"}
"""The study's row names that a user can ask for with --synthesizer, and that name."""

DATA_KINDS = {"dollar-gds": "pen strokes ($1-GDS)", "jk2017-kinect": "body (JK2017 Kinect)",
              "jk2017-leap": "hands (JK2017 Leap Motion)"}


def _studies(study: dict) -> list[tuple[str, dict]]:
    """(recogniser kind, study) for the 1-NN study, its learned one and any other recogniser's, where present."""
    out = [("1-NN", study)]
    if study.get("learned"):
        out.append(("learned (GRU)", study["learned"]))
    out += [(other["recognizer"], other) for other in study.get("more", ()) if other.get("rows")]
    return out


def _record(path: Path) -> tuple[str, dict]:
    """(data set, held-out study) of a result file: a benchmark's {"dataset", "study"} or a --metrics=study file."""
    record = json.loads(path.read_text())
    if "augmentation" in record:
        return record["checkpoint"]["dataset"], with_current_names(record["augmentation"])
    return record["dataset"], with_current_names(record["study"])


def versus_chain(pattern: str, recognizer: str, per_class: int = 160) -> list[dict]:
    """Each option's paired difference from the chain at `per_class`, for one recogniser, per data set: mean, two
    standard errors (2·sd/√seeds), and whether the option beats the chain beyond them."""
    out = []
    for path in sorted(RESULTS.glob(pattern)):
        dataset, study = _record(path)
        found = dict(_studies(study)).get(recognizer)
        rows = {row["added"]: np.array(row["errors"]) for row in found["rows"] if row["per_class"] == per_class}
        for option, errors in rows.items():
            if option == "chain":
                continue
            diff = errors - rows["chain"]
            se2 = 2 * diff.std(ddof=1) / np.sqrt(len(diff))
            out.append({"dataset": dataset, "option": option, "chain": float(rows["chain"].mean()),
                        "error": float(errors.mean()), "difference": float(diff.mean()), "se2": float(se2),
                        "seeds": len(diff), "beats_chain": bool(diff.mean() + se2 < 0),
                        "real": float(np.mean(found.get("real_errors", [found["real_error"]])))})
    return out


def versus_chain_table(pattern: str, recognizer: str) -> str:
    """`versus_chain` as a markdown table (the findings page's)."""
    lines = ["| data set | option | real alone | chain | option | option − chain (± 2 se) | beats the chain |",
             "|---|---|---|---|---|---|---|"]
    for r in versus_chain(pattern, recognizer):
        lines.append(f"| {r['dataset']} | {CLI_NAMES.get(r['option'], r['option'])} | {r['real']:.4f} | "
                     f"{r['chain']:.4f} | {r['error']:.4f} | {r['difference']:+.4f} ± {r['se2']:.4f} | "
                     f"{'yes' if r['beats_chain'] else 'no'} |")
    return "\n".join(lines)


def pooled(patterns: list[str]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """(data set, recogniser) → option → every seed's held-out error at the largest count, over all files."""
    table: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for pattern in patterns:
        for path in sorted(RESULTS.glob(pattern)):
            dataset, whole = _record(path)
            for kind, study in _studies(whole):
                if not study.get("rows"):
                    continue
                top = max(row["per_class"] for row in study["rows"])
                cell = table[(dataset, kind)]
                cell["real alone"] += list(study.get("real_errors", [study["real_error"]]))
                for row in study["rows"]:
                    if row["per_class"] == top:
                        cell[row["added"]] += list(row["errors"])
    return table


def draw(name: str, table: dict[tuple[str, str], dict[str, list[float]]]) -> Path:
    """One panel per (data set, recogniser): mean held-out error ± sd of each option, real alone dashed."""
    datasets = sorted({key[0] for key in table})
    kinds = sorted({key[1] for key in table})
    height = 0.3 * max(len(cell) for cell in table.values()) + 1.2
    fig, axes = plt.subplots(len(kinds), len(datasets), figsize=(4.4 * len(datasets), height * len(kinds) + 0.4),
                             squeeze=False)
    for (row, kind), (column, dataset) in itertools.product(enumerate(kinds), enumerate(datasets)):
        ax, key = axes[row][column], (dataset, kind)
        if key not in table:
            ax.axis("off")
            continue
        options = [o for o in table[key] if o != "real alone"]
        means = np.array([np.mean(table[key][o]) for o in options])
        sds = np.array([np.std(table[key][o], ddof=1) if len(table[key][o]) > 1 else 0.0 for o in options])
        y = np.arange(len(options))
        ax.barh(y, means, xerr=sds, color=["tab:green" if o in CLI_NAMES else "tab:gray" for o in options], alpha=0.8)
        ax.axvline(np.mean(table[key]["real alone"]), color="k", linestyle="--", linewidth=1, label="real alone")
        ax.set_yticks(y, [CLI_NAMES.get(o, o) for o in options], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("held-out error (lower is better)", fontsize=8)
        ax.set_title(f"{dataset}, {kind}", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{name}: mean ± sd over seeds (and folds); green: a --synthesizer name", fontsize=9)
    return _save(fig, name)


def _save(fig: plt.Figure, name: str) -> Path:
    """The figure as docs/findings/figures/`name`.png."""
    fig.tight_layout()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def draw_time_to_quality() -> Path:
    """TSTR / yardstick against minutes of training, per data set and recipe (benchmarks/time_to_quality.py)."""
    runs = sorted((RESULTS / "time_to_quality").glob("*/points.jsonl"))
    datasets = [d for d in DATA_KINDS if any(p.parent.name.startswith(d + "-") for p in runs)]  # folders: <data set>-<recipe>
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.2), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        for path in runs:
            if not path.parent.name.startswith(dataset + "-"):
                continue
            points = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            minutes = [p["seconds"] / 60 for p in points]
            ratio = [p["ratio"] for p in points]
            ax.errorbar(minutes, ratio, yerr=[p["tstr_sd"] / p["yardstick"] for p in points], marker="o",
                        label=path.parent.name[len(dataset) + 1:], capsize=2)
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("minutes of training (2-core CPU)")
        ax.set_ylabel("TSTR / yardstick")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7)
    return _save(fig, "time-to-quality")


def draw_stroke_order() -> Path:
    """$P TSTR against epochs of the MMG model fine-tuned in each stroke order, and per class at the last epoch of
    both (benchmarks/stroke_order.py)."""
    results = json.loads((RESULTS / "stroke_order" / "mmg.json").read_text())["results"]
    start = min(r["epoch"] for r in results)  # the model both runs continue (drawn order)
    fig, (curve, bars) = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [1, 2]})
    last = {}
    for order in ("drawn", "canonical"):
        runs = sorted((r for r in results if r["stroke_order"] == order or r["epoch"] == start),
                      key=lambda r: r["epoch"])
        overall = [np.asarray(r["accuracy"]).mean(axis=1) for r in runs]
        curve.errorbar([r["epoch"] for r in runs], [o.mean() for o in overall], yerr=[o.std(ddof=1) for o in overall],
                       marker="o", capsize=2, label=f"--stroke-order={order} from epoch {start + 1}")
        last[order] = runs[-1]
    curve.set_xlabel("epoch")
    curve.set_ylabel("$P TSTR (all classes)")
    curve.legend(fontsize=7)
    classes = last["drawn"]["classes"]
    x = np.arange(len(classes))
    for shift, (order, run) in zip((-0.2, 0.2), last.items()):
        accuracy = np.asarray(run["accuracy"])
        bars.bar(x + shift, accuracy.mean(axis=0), 0.4, yerr=accuracy.std(axis=0, ddof=1), capsize=2,
                 label=f"{order}, epoch {run['epoch']}")
    bars.set_xticks(x, [c.replace("_", " ") for c in classes], rotation=45, ha="right", fontsize=7)
    bars.set_ylabel("$P TSTR per class")
    bars.set_ylim(0, 1.05)
    bars.legend(fontsize=7)
    return _save(fig, "stroke-order")


def draw_chain_choice() -> Path:
    """Held-out GRU error of each chain tried (benchmarks/chain_choice.py), per data set, pooled over folds."""
    table: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted((RESULTS / "chain_choice").glob("*.json")):
        record = json.loads(path.read_text())
        for option, errors in record["errors"].items():
            table[(record["dataset"], "learned (GRU)")][option] += list(errors)
    return draw("chained-training", table)


def recommendations() -> list[tuple[str, str, str, str]]:
    """(kind of data, recogniser, option, gain over real alone) from the shipped two-writer models' 12 seeds."""
    out = []
    for path in sorted(RESULTS.glob("checkpoint_options/*-seeds-12.json")):
        record = json.loads(path.read_text())
        for kind, study in _studies(with_current_names(record["study"])):
            rows = {row["added"]: np.array(row["errors"]) for row in study["rows"] if row["per_class"] == 160}
            chain = rows["chain"]
            best, best_error = "chain", chain.mean()
            for option, errors in rows.items():
                diff = errors - chain
                beats = diff.mean() + 2 * diff.std(ddof=1) / np.sqrt(len(diff)) < 0
                if option in CLI_NAMES and beats and errors.mean() < best_error:
                    best, best_error = option, errors.mean()
            real = float(np.mean(study.get("real_errors", [study["real_error"]])))
            gain = f"{(real - best_error) / real:+.0%} errors".replace("+", "−") if best_error < real else \
                f"{(best_error - real) / real:+.0%} errors"
            out.append((DATA_KINDS[record["dataset"]], kind, "the chain" if best == "chain" else CLI_NAMES[best],
                        f"{real:.3f} → {best_error:.3f} ({gain})"))
    return out


def recommendation_table(link: str) -> str:
    """The README's and the docs' table: data kind × recogniser → option, measured error, evidence link."""
    lines = ["| your data | 1-NN template matcher | learned recogniser (GRU) |", "|---|---|---|"]
    cells = defaultdict(dict)
    for data, kind, option, gain in recommendations():
        cells[data][kind] = f"`{option}`: {gain}" if option != "the chain" else f"the chain: {gain}"
    for data, row in cells.items():
        lines.append(f"| {data} | {row['1-NN']} | {row['learned (GRU)']} |")
    return "\n".join(lines) + f"\n\nHeld-out error with 160 samples per class added, real alone → the option, mean over 12 " \
                              f"seeds ([evidence]({link}))."


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    for name, patterns in STUDIES.items():
        print(draw(name, pooled(patterns)).relative_to(ROOT))
    print(draw_chain_choice().relative_to(ROOT))
    print(draw_time_to_quality().relative_to(ROOT))
    print(draw_stroke_order().relative_to(ROOT))
    print()
    print(recommendation_table("docs/findings/index.md"))
    print()
    print(versus_chain_table(MINIROCKET, "MiniRocket"))


if __name__ == "__main__":
    main()
