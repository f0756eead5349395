"""Turn a training checkpoint into a shareable pretrained model with its evidence.

    python pretrained_models/make_release.py RUN/checkpoints/checkpoint-best.pt \
        pretrained_models/DeepNAG/dollar-gds --datapath ../shared/data --num-per-class 10

Writes into the destination folder: `generator.pt` (generator-only, weights-only
loadable, no optimiser or RNG state, data path reset to the default `data`),
`evaluation/` (the figures of --evaluate) with `metrics.json`, and `MODEL_CARD.md`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import main  # noqa: E402
from deepnag import checkpoint  # noqa: E402
from deepnag.config import Config  # noqa: E402

MAX_BYTES = 10 * 1024 * 1024


def training_command(config: Config) -> str:
    defaults = Config()
    flags = [f"--model={config.model}", f"--dataset={config.dataset}"]
    for name in ("seed", "latent_dim", "resample_n", "lr", "beta0", "beta1", "batch_size", "deepgan_critic_iters",
                 "deepgan_lambda", "speeds", "classes", "max_per_class"):
        value = getattr(config, name)
        if value != getattr(defaults, name):
            value = ",".join(value) if isinstance(value, tuple) else value
            flags.append(f"--{name.replace('_', '-')}={value}")
    return "python main.py " + " ".join(flags)


def wall_clock_hours(log: Path, epoch: int) -> float | None:
    """Training hours up to `epoch`, summed from the per-epoch durations in the run's log."""
    if not log.is_file():
        return None
    seconds = 0.0
    for match in re.finditer(r"epoch (\d+)/\d+\s+([\d.]+)s", log.read_text()):
        if int(match.group(1)) <= epoch:
            seconds += float(match.group(2))
    return seconds / 3600


def main_(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("destination", type=Path)
    parser.add_argument("--datapath", default="data", help="where the real data set is, for the metrics")
    parser.add_argument("--num-per-class", type=int, default=10)
    parser.add_argument("--machine", default="2-core x86-64 CPU (no GPU)")
    args = parser.parse_args(argv)

    state = checkpoint.load(args.checkpoint)
    config = Config.from_dict(state["config"])
    shared = checkpoint.generator_only(state)
    shared["config"] = {**state["config"], "datapath": "data", "resume": None, "logdir": "logs"}
    args.destination.mkdir(parents=True, exist_ok=True)
    target = checkpoint.save(shared, args.destination / "generator.pt")
    size = target.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{target} is {size / 1e6:.1f} MB, over the 10 MB limit")

    evaluation = args.destination / "evaluation"
    code = main.main([f"--evaluate={target}", f"--output={evaluation}", f"--datapath={args.datapath}", "--metrics",
                      f"--num-per-class={args.num_per_class}"])
    if code:
        raise SystemExit(code)
    metrics = json.loads((evaluation / "metrics.json").read_text())
    hours = wall_clock_hours(args.checkpoint.resolve().parent.parent / "logs" / "train.log", state["epoch"])
    from deepnag.report import table

    figures = sorted(p.name for p in evaluation.iterdir() if p.suffix in (".png", ".gif"))
    card = f"""# {config.model} on {config.dataset}

Trained with this project's own code.

| | |
|---|---|
| command | `{training_command(config)}` (then `--resume` across sessions) |
| epochs | {state['epoch']} of the reference's {config.num_epochs} (best epoch-mean loss: {state['best_loss']:.4f}) |
| wall-clock | {f'{hours:.1f} h' if hours is not None else 'unknown'} of training |
| machine | {args.machine} |
| file | `generator.pt`, {size / 1e6:.1f} MB, generator only, loads with `torch.load(..., weights_only=True)` |

## Quality (`python main.py --evaluate=generator.pt --metrics --num-per-class={args.num_per_class}`)

```
{table(metrics)}
```

TSTR / yardstick = {metrics['tstr_accuracy'] / metrics['yardstick_accuracy']:.3f}
(target ≥ 0.9). Full numbers: `evaluation/metrics.json`.

## Figures

{chr(10).join(f'![{name}](evaluation/{name})' for name in figures[:2])}

## Use

```bash
python main.py --evaluate={target.as_posix()}
python main.py --generate={target.as_posix()} --output=synthetic --num-per-class=100
```
"""
    (args.destination / "MODEL_CARD.md").write_text(card)
    print(f"wrote {target}, {evaluation}, {args.destination / 'MODEL_CARD.md'}")


if __name__ == "__main__":
    main_()
