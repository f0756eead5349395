"""Turn a training checkpoint into a shareable pretrained model with its evidence.

    python -m scripts.make_release RUN/checkpoints/checkpoint-best.pt \
        pretrained_models/DeepNAG/dollar-gds --datapath ../shared/data --num-per-class 10
    python -m scripts.make_release RUN/checkpoints/checkpoint-epoch-250.pt \
        pretrained_models/DeepNAG/dollar-gds --datapath ../shared/data --record-only

Writes into the destination folder: `generator.pt` (generator-only, weights-only
loadable, no optimiser or RNG state, data path reset to the default `data`), for
DeepGAN also `critic.pt` (its critic alone, about 6 MB: generator and critic in one
file would be over the repository's 10 MB file limit), which `--resume=generator.pt` joins back,
`evaluation/` (the figures of --evaluate) with `metrics.json`, and `MODEL_CARD.md`.
Every measured checkpoint adds a row to `tstr_history.csv` (epoch, TSTR, yardstick),
which the card shows as the curve of TSTR against epochs; `--record-only` measures
a checkpoint for that curve without releasing it.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import main
from deepnag import checkpoint
from deepnag.config import RECIPES, Config

MAX_BYTES = 10 * 1024 * 1024
HISTORY_FIELDS = ("epoch", "tstr", "yardstick", "num_per_class")
KEPT_GIFS = 1
"""Animations (one per class for skeletons) kept in a release; `--evaluate` makes all of them."""


def training_command(config: Config) -> str:
    """The command that trains `config`: its recipe, then only the settings that differ from the recipe's."""
    defaults = dataclasses.replace(Config(), **RECIPES[config.recipe])
    flags = [f"--model={config.model}", f"--dataset={config.dataset}"]
    if config.recipe != Config.recipe:
        flags.append(f"--recipe={config.recipe}")
    for name in ("seed", "latent_dim", "resample_n", "gamma", "diversity_weight", "lr", "lr_warmup", "ema", "beta0",
                 "beta1", "batch_size", "deepgan_critic_iters", "deepgan_lambda", "speeds", "mmg_device", "stroke_order",
                 "classes", "max_per_class", "subjects", "holdout_subjects", "train_subject_count", "chain_variants"):
        value = getattr(config, name)
        if value != getattr(defaults, name):
            value = ",".join(value) if isinstance(value, tuple) else value
            flags.append(f"--{name.replace('_', '-')}={value}")
    if config.epochs != defaults.epochs:
        flags.append(f"--epochs={config.epochs}")
    return "python main.py " + " ".join(flags)


CHANGES = (("lr", r"from epoch (\d+) the learning rate goes on at --lr=(\S+) \(the run's was (\S+)\)"),
           ("stroke_order", r"from epoch (\d+) the strokes are in --stroke-order=(\S+) \(the run's were (\S+)\)"))
"""The settings a resume may change, as the training log says so (`deepnag/train/loop.py`)."""


def resume_changes(log: Path, epoch: int) -> list[tuple[int, str, str, str]]:
    """The settings `--resume` changed up to `epoch`, from the run's log: (from epoch, setting, new, old), in order."""
    if not log.is_file():
        return []
    text = log.read_text()
    found = [(int(m.group(1)), name, m.group(2), m.group(3)) for name, pattern in CHANGES
             for m in re.finditer(pattern, text) if int(m.group(1)) <= epoch]
    return sorted(found, key=lambda change: change[0])


def command_line(config: Config, changes: list[tuple[int, str, str, str]]) -> str:
    """The card's command: the run's first one, then its resumes (and where one changed a setting)."""
    if not changes:
        return f"`{training_command(config)}` (then `--resume` across sessions)"
    first = {}
    for _, name, _, old in changes:
        first.setdefault(name, type(getattr(config, name))(old))
    later = ", ".join(f"from epoch {start} `--{name.replace('_', '-')}={_flag_value(name, new)}`"
                      for start, name, new, _ in changes)
    return f"`{training_command(dataclasses.replace(config, **first))}` (then `--resume` across sessions; {later})"


def _flag_value(name: str, text: str) -> str:
    """A logged value as the command line writes it (learning rates as %g)."""
    return f"{float(text):g}" if name == "lr" else text


def wall_clock_hours(log: Path, epoch: int) -> float | None:
    """Training hours up to `epoch`, summed from the per-epoch durations in the run's log."""
    if not log.is_file():
        return None
    seconds = 0.0
    for match in re.finditer(r"epoch (\d+)/\d+\s+([\d.]+)s", log.read_text()):
        if int(match.group(1)) <= epoch:
            seconds += float(match.group(2))
    return seconds / 3600


def read_history(path: Path) -> dict[int, dict[str, str]]:
    """Rows of `tstr_history.csv` by epoch (empty if there is none yet)."""
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        return {int(row["epoch"]): row for row in csv.DictReader(f)}


def record(path: Path, epoch: int, metrics: dict, num_per_class: int) -> dict[int, dict[str, str]]:
    """Add (or replace) the row of `epoch` in the history file; returns all rows."""
    rows = read_history(path)
    rows[epoch] = {"epoch": str(epoch), "tstr": f"{metrics['tstr_accuracy']:.4f}",
                   "yardstick": f"{metrics['yardstick_accuracy']:.4f}", "num_per_class": str(num_per_class)}
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(rows[e] for e in sorted(rows))
    return rows


def history_table(rows: dict[int, dict[str, str]]) -> str:
    """The TSTR curve as a Markdown table, one column per measured epoch."""
    epochs = sorted(rows)
    return "\n".join([
        "| epoch | " + " | ".join(str(e) for e in epochs) + " |",
        "|---|" + "---|" * len(epochs),
        "| TSTR | " + " | ".join(f"{float(rows[e]['tstr']):.3f}" for e in epochs) + " |",
        "| TSTR / yardstick | " + " | ".join(f"{float(rows[e]['tstr']) / float(rows[e]['yardstick']):.2f}"
                                             for e in epochs) + " |",
        "| synthetic per class | " + " | ".join(rows[e]["num_per_class"] for e in epochs) + " |",
    ])


def measure(checkpoint_path: Path, datapath: str, num_per_class: int) -> dict:
    """The --metrics of `checkpoint_path` (synthetic samples generated into a temporary folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "synthetic"
        code = main.main([f"--generate={checkpoint_path}", f"--output={out}", f"--datapath={datapath}", "--metrics",
                          f"--num-per-class={num_per_class}"])
        if code:
            raise SystemExit(code)
        return json.loads(out.with_suffix(".metrics.json").read_text())


def main_(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("destination", type=Path)
    parser.add_argument("--datapath", default="data", help="where the real data set is, for the metrics")
    parser.add_argument("--num-per-class", type=int, default=10)
    parser.add_argument("--machine", default="2-core x86-64 CPU (no GPU)")
    parser.add_argument("--prior-hours", type=float, default=0.0,
                        help="training hours of earlier runs that this one continued (from a generator-only checkpoint)")
    parser.add_argument("--command", default="",
                        help="the card's command cell, for a model continued from a generator-only checkpoint whose "
                             "earlier runs' logs are elsewhere (default: from this run's config and log)")
    parser.add_argument("--note", default="", help="a paragraph for the card, e.g. that the model is intermediate")
    parser.add_argument("--metrics", choices=("fast", "study"), default="fast",
                        help="the card's measurements: the quality figures, or those and the held-out-writer study "
                             "(for a model trained on some writers only)")
    parser.add_argument("--record-only", action="store_true",
                        help="measure the checkpoint and add it to tstr_history.csv, without releasing it")
    args = parser.parse_args(argv)

    state = checkpoint.load(args.checkpoint)
    args.destination.mkdir(parents=True, exist_ok=True)
    history_path = args.destination / "tstr_history.csv"
    if args.record_only:
        metrics = measure(args.checkpoint, args.datapath, args.num_per_class)
        record(history_path, int(state["epoch"]), metrics, args.num_per_class)
        print(f"epoch {state['epoch']}: TSTR {metrics['tstr_accuracy']:.4f} "
              f"(yardstick {metrics['yardstick_accuracy']:.4f}); recorded in {history_path}")
        return
    config = checkpoint.config_of(state)
    shared = checkpoint.generator_only(state)
    # paths and machine settings of the training machine mean nothing on a user's
    shared["config"] = {**state["config"], "datapath": "data", "resume": None, "logdir": "logs", "device": "auto",
                        "num_threads": 0}
    args.destination.mkdir(parents=True, exist_ok=True)
    target = checkpoint.save(shared, args.destination / "generator.pt")
    size = target.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{target} is {size / 1e6:.1f} MB, over the 10 MB limit")
    files = f"`generator.pt`, {size / 1e6:.1f} MB, generator only, loads with `torch.load(..., weights_only=True)`"
    critic_path = args.destination / checkpoint.CRITIC_FILE
    if "critic" in state:  # DeepGAN: its critic too, without optimiser state, so training can go on anywhere
        critic = checkpoint.save(checkpoint.critic_only(state), critic_path)
        if critic.stat().st_size > MAX_BYTES:
            raise SystemExit(f"{critic} is {critic.stat().st_size / 1e6:.1f} MB, over the 10 MB limit")
        files += (f"; `{checkpoint.CRITIC_FILE}`, {critic.stat().st_size / 1e6:.1f} MB, its critic, which `--resume` "
                  "of `generator.pt` picks up to continue training")
    elif state["model"] == "DeepGAN":
        critic_path.unlink(missing_ok=True)  # a critic of another epoch must not be joined with this generator
        files += "; its critic was not kept, so training continues with `--fresh-critic`"

    resume = (args.destination / "generator.pt").as_posix()
    if "critic" not in state and state["model"] == "DeepGAN":
        resume += " --fresh-critic"
    evaluation = args.destination / "evaluation"
    code = main.main([f"--evaluate={target}", f"--output={evaluation}", f"--datapath={args.datapath}",
                      "--metrics" if args.metrics == "fast" else "--metrics=study", f"--num-per-class={args.num_per_class}"])
    if code:
        raise SystemExit(code)
    metrics = json.loads((evaluation / "metrics.json").read_text())
    rows = record(history_path, int(state["epoch"]), metrics, args.num_per_class)
    log = args.checkpoint.resolve().parent.parent / "logs" / "train.log"
    hours = wall_clock_hours(log, state["epoch"])
    if hours is not None:
        hours += args.prior_hours
    from deepnag.evaluation.report import table

    gifs = sorted(evaluation.glob("*.gif"))
    for extra in gifs[KEPT_GIFS:]:  # one animated class is evidence enough; the rest would weigh megabytes
        extra.unlink()
    figures = sorted(p.name for p in evaluation.iterdir() if p.suffix in (".png", ".gif"))
    card = f"""# {config.model} on {config.dataset}

Trained with this project's own code.

| | |
|---|---|
| command | {args.command or command_line(config, resume_changes(log, state['epoch']))} |
| epochs | {state['epoch']} of {config.num_epochs}{" (the reference's)" if config.epochs is None else f" (`--epochs`; the reference's: {Config(model=config.model).num_epochs})"}, best epoch-mean loss {state['best_loss']:.4f} |
| wall-clock | {f'{hours:.1f} h' if hours is not None else 'unknown'} of training |
| machine | {args.machine} |
| files | {files} |

## Quality (`python main.py --evaluate=generator.pt --metrics{"" if args.metrics == "fast" else "=study"} --num-per-class={args.num_per_class}`)

```
{table(metrics)}
```

TSTR / yardstick = {metrics['tstr_accuracy'] / metrics['yardstick_accuracy']:.3f}
(target ≥ 0.9). Full numbers: `evaluation/metrics.json`.
{chr(10) + args.note + chr(10) if args.note else ''}
## TSTR against epochs

From `tstr_history.csv` (each checkpoint measured as above, seed 1234):

{history_table(rows)}

## Figures

{chr(10).join(f'![{name}](evaluation/{name})' for name in figures[:2])}

## Use

```bash
python main.py --evaluate={target.as_posix()}
python main.py --generate={target.as_posix()} --output=synthetic --num-per-class=100
python main.py --resume={resume} --epochs={state['epoch'] + 1000}
```
"""
    (args.destination / "MODEL_CARD.md").write_text(card)
    print(f"wrote {target}, {evaluation}, {args.destination / 'MODEL_CARD.md'}")


if __name__ == "__main__":
    main_()
