"""The command line: flags → a `Config`, then the one action they ask for (train, evaluate, generate).

`python main.py …` and the installed `deepnag …` command both run `main`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any, NoReturn, Sequence

from deepnag._version import __version__
from deepnag.actions import ACTIONS, FLAG_GROUPS, RUN_SETTINGS, chosen, flag, missing, refused
from deepnag.config import BEST_BY, DATASETS, DEVICES, DOLLAR_GDS_SPEEDS, DURATION_UNITS, MODELS, RECIPES, Config
from deepnag.errors import UserError
from deepnag.generate.synthesizers import SYNTHESIZERS
from deepnag.runtime import command, configure_openmp, end_process, launched_by_torchrun
from deepnag.train.run_dir import FILE_ONLY

log = logging.getLogger("deepnag")


def configure_console_logging() -> None:
    """What the console shows: INFO and above from the project, warnings from the rest."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "deepnag_console", False)]:
        root.removeHandler(old)  # main() called again in the same process (tests)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    handler.deepnag_console = True  # type: ignore[attr-defined]
    handler.addFilter(lambda record: not getattr(record, FILE_ONLY, False))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    # Under torchrun only rank 0 reports progress; other ranks show warnings and errors.
    rank = os.environ.get("RANK", "0")
    # DDP's notice when WGAN-GP's double backward lays out a gradient differently: harmless, not the user's concern.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    logging.getLogger("deepnag").setLevel(logging.INFO if rank == "0" else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the flags and run the one action they ask for (`deepnag.actions`); returns the exit status."""
    configure_openmp()  # before the action imports torch (a no-op if it is already imported)
    configure_console_logging()
    try:
        config, explicit = parse_args(argv)
        from deepnag import commands  # here, not at the top: parsing flags and --help need none of what it imports

        commands.run(action_of(config, explicit), config, explicit)
    except UserError as error:
        print(f"{error.label}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def run() -> NoReturn:
    """The program's entry (main.py, the `deepnag` script): exits with `main`'s status.

    A torchrun worker ends through `runtime.end_process`, which skips the interpreter's finalisation (see there why).
    """
    code = main()
    if launched_by_torchrun():
        end_process(code)
    sys.exit(code)


def action_of(config: Config, explicit: set[str]) -> str:
    """The name of the action a parsed command line runs."""
    return chosen(dataclasses.asdict(config), explicit).name


def _int_at_least(name: str, minimum: int):
    """argparse type: an integer ≥ minimum, with a message naming the flag."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < minimum:
            bound = "at least 1" if minimum == 1 else f"{minimum} or more"
            raise argparse.ArgumentTypeError(f"{name} must be {bound}, got {value}")
        return value

    return convert


def _positive_int(name: str):
    return _int_at_least(name, 1)


def _non_negative_int(name: str):
    return _int_at_least(name, 0)


def _finite_float(name: str, zero_allowed: bool):
    """A parser of finite numbers above 0 (or at least 0), whose errors name `name`."""
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not (value >= 0 if zero_allowed else value > 0) or value == float("inf"):
            kind = "non-negative" if zero_allowed else "positive"
            raise argparse.ArgumentTypeError(f"{name} must be a {kind} finite number, got {text}")
        return value

    return convert


def _positive_float(name: str):
    return _finite_float(name, zero_allowed=False)


def _non_negative_float(name: str):
    return _finite_float(name, zero_allowed=True)


def _beta(name: str):
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not 0.0 <= value < 1.0:
            raise argparse.ArgumentTypeError(f"{name} must be in [0, 1), got {text}")
        return value

    return convert


def _choice(name: str, choices: Sequence[str]):
    """Case-insensitive choice whose error lists the known values."""
    by_lower = {c.lower(): c for c in choices}

    def convert(text: str) -> str:
        try:
            return by_lower[text.lower()]
        except KeyError:
            raise argparse.ArgumentTypeError(
                f"unknown {name} {text!r}; known: {', '.join(choices)}"
            ) from None

    return convert


def _speeds(text: str) -> tuple[str, ...]:
    speeds = tuple(s.strip().lower() for s in text.split(",") if s.strip())
    unknown = [s for s in speeds if s not in DOLLAR_GDS_SPEEDS]
    if not speeds or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown speed(s) {', '.join(unknown) or repr(text)}; known: {', '.join(DOLLAR_GDS_SPEEDS)}"
        )
    return speeds


def _seconds(name: str, text: str) -> float:
    """A duration with a unit, 90s / 30m / 2h (or 1.5h), in seconds; the error names the flag."""
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    try:
        seconds = float(value) * DURATION_UNITS[unit]
    except (KeyError, ValueError):
        raise argparse.ArgumentTypeError(f"{name} must be a duration like 90s, 30m or 2h, got {text!r}") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{name} must be positive, got {text!r}")
    return seconds


def _duration(text: str) -> float:
    """argparse type of --time-limit."""
    return _seconds("--time-limit", text)


def _interval(text: str) -> str:
    """argparse type of --eval-every: a number of epochs, or a duration (kept as text, read by Config)."""
    text = text.strip()
    if not text:  # the default: never
        return ""
    if text.isdigit():
        if int(text) < 1:
            raise argparse.ArgumentTypeError("--eval-every must be at least 1 epoch")
        return str(int(text))
    try:
        _seconds("--eval-every", text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"--eval-every must be a number of epochs (50) or a duration (10m, 90s, 1h), got {text!r}") from None
    return text


def _recipe_flags(name: str) -> str:
    """A recipe as the flags it stands for, e.g. `--lr=0.001 --ema=0.999`."""
    return " ".join(f"--{k.replace('_', '-')}={v}" for k, v in RECIPES[name].items())


def _names(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each flag's default readably: `medium` not `('medium',)`, nothing for unset paths."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        hidden = default is None or default is False or default is argparse.SUPPRESS or default in ((), "")
        if "default" in text or hidden or not action.option_strings:
            return text
        shown = ",".join(default) if isinstance(default, tuple) else default
        return f"{text} (default: {shown})"


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises UserError (one line, no usage dump) instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see {command()} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser; `--help` shows every flag with its default."""
    d = Config()
    p = _ArgumentParser(
        prog=command().removeprefix("python "),
        description="DeepNAG: train a gesture generator (DeepNAG or the DeepGAN baseline), "
        "or evaluate a trained checkpoint.",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add = _adder(p)
    for flags in (_action_flags, _data_flags, _model_flags, _runtime_and_output_flags, _sample_flags):
        flags(add, d)
    return p


_Add = Callable[..., argparse.Action]


def _adder(p: argparse.ArgumentParser) -> _Add:
    """`add(*flags, **options)`: adds a flag to the help group of `FLAG_GROUPS` that holds it (the actions' own flags
    to "what to run"), each group saying which actions take its flags."""
    groups = {"what to run": p.add_argument_group("what to run", "one action per command; without one, train: "
                                                  + "; ".join(f"{a.name}: {a.help}" for a in ACTIONS.values()))}
    for name, fields in FLAG_GROUPS.items():
        groups[name] = p.add_argument_group(name, _takers(fields))
    group_of = {field: name for name, fields in FLAG_GROUPS.items() for field in fields}

    def add(*flags: str, **options: Any) -> argparse.Action:
        dest = options.get("dest") or flags[0].lstrip("-").replace("-", "_")
        return groups[group_of.get(dest, "what to run")].add_argument(*flags, **options)

    return add


def _takers(fields: Sequence[str]) -> str:
    """Which actions take a group of flags, and which of them an action on a checkpoint may change."""
    takers = [a for a in ACTIONS.values() if set(fields) & set(a.accepts)]
    text = f"taken by: {', '.join(a.name for a in takers)}"
    if not set(fields) <= set(RUN_SETTINGS):
        return text
    changes = [f"{a.name}: {', '.join(flag(f) for f in fields if f in a.may_differ)}" for a in takers
               if a.may_differ is not None and set(fields) & set(a.may_differ)]
    return (f"{text}; resume and evaluate read them from the checkpoint (a flag given must agree with it), "
            f"except what they may change ({'; '.join(changes) or 'none here'})")


def _action_flags(add: _Add, d: Config) -> None:
    add("--model", type=_choice("model", MODELS), default=d.model,
        help=f"generator training method: {' | '.join(MODELS)}")
    add("--dataset", "--dataset-name", dest="dataset", type=_choice("data set", DATASETS),
        default=d.dataset, help=f"data set: {' | '.join(DATASETS)}")
    add("--evaluate", metavar="CHECKPOINT", default=d.evaluate,
        help="visualise a trained checkpoint instead of training "
        "(model and data set come from the checkpoint)")
    add("--resume", metavar="CHECKPOINT", default=d.resume,
        help="continue the run that wrote CHECKPOINT, in its run directory")
    add("--fresh-critic", action="store_true",
        help="with --resume of a generator-only DeepGAN checkpoint: train a new critic against it")
    add("--generate", metavar="CHECKPOINT", default=d.generate,
        help="write synthetic samples of a trained checkpoint to --output (see --num-per-class, --format)")


def _data_flags(add: _Add, d: Config) -> None:
    add("--datapath", default=d.datapath,
        help="folder holding (or receiving) the data sets; data found there is used "
        "without any network access. The default, data, is the project's data/ folder from any "
        "working directory ($DEEPNAG_DATA overrides it; an installed package uses ~/.cache/deepnag/data). "
        "With --dataset=folder: your folder of class subfolders")
    add("--download-url", default=d.download_url,
        help="mirror to download from: for dollar-gds the URL of xml.zip, for jk2017-kinect and jk2017-leap "
        "the URL of the training folder (also DEEPNAG_DOLLAR_GDS_URL / DEEPNAG_JK2017_URL / DEEPNAG_JK2017_LEAP_URL); "
        "default: the publishers' addresses")
    add("--speeds", type=_speeds, default=d.speeds,
        help="dollar-gds only: comma-separated writing speeds to load "
        f"({', '.join(DOLLAR_GDS_SPEEDS)})")
    add("--subject-pattern", default=d.subject_pattern,
        help="folder only: regular expression whose first group, found in a file name, is its subject "
        "(used when DIR/subjects.csv is absent)")
    add("--classes", type=_names, default=d.classes,
        help="comma-separated class names to keep (default: all classes)")
    add("--subjects", type=_names, default=d.subjects,
        help="comma-separated subjects (writers) to train on (default: all); the others are held out, "
        "and --metrics measures on them what synthetic data adds for unseen writers")
    add("--holdout-subjects", type=_names, default=d.holdout_subjects,
        help="comma-separated subjects to keep out of training")
    add("--train-subject-count", type=_non_negative_int("--train-subject-count"),
        default=d.train_subject_count,
        help="train on this many subjects, drawn with --seed from those left by the two flags above "
        "(0: all of them)")
    add("--max-per-class", type=_non_negative_int("--max-per-class"), default=d.max_per_class,
        help="keep at most this many samples per class (0: all); for quick experiments")
    add("--chain-variants", type=_non_negative_int("--chain-variants"), default=d.chain_variants, metavar="K",
        help="train on K chained variants (GPSR, rotation, stretch: deepnag/data/chain.py) of every training "
        "sample beside it, drawn once with --seed: a generator of a wider distribution than its few writers "
        "(0: none, the reference's)")


def _model_flags(add: _Add, d: Config) -> None:
    add("--seed", type=int, default=d.seed, help="random seed; -1 draws a random one")
    add("--latent-dim", type=_positive_int("--latent-dim"), default=d.latent_dim,
        help="size of the latent noise per time step")
    add("--gamma", type=_positive_float("--gamma"), default=d.gamma,
        help="soft-DTW smoothing (gamma) of the loss; the reference uses 0.1")
    add("--diversity-weight", type=_non_negative_float("--diversity-weight"), default=d.diversity_weight,
        metavar="W", help="weight of the loss's diversity term against its fidelity term "
        "(DeepNAG; the reference's: 1; 0 drops it)")
    add("--resample-n", type=_positive_int("--resample-n"), default=d.resample_n,
        help="points per gesture after spatial resampling (at least 2)")
    add("--recipe", type=_choice("recipe", tuple(RECIPES)), default=d.recipe,
        help="a set of training defaults: 'reference' (the paper's) or 'fast' "
        f"({_recipe_flags('fast')}: good generators in minutes of CPU); flags given win "
        f"(default: {d.recipe})")
    add("--lr", type=_positive_float("--lr"), default=d.lr, help="Adam learning rate")
    add("--lr-warmup", type=_non_negative_int("--lr-warmup"), default=d.lr_warmup, metavar="STEPS",
        help="raise the learning rate linearly over the first STEPS optimiser steps (0: none)")
    add("--ema", type=_beta("--ema"), default=d.ema, metavar="DECAY",
        help="sample from an exponential moving average of the generator's weights with this "
        "decay per step, e.g. 0.999 (0: the trained weights themselves)")
    add("--beta0", type=_beta("--beta0"), default=d.beta0, help="Adam beta 1")
    add("--beta1", type=_beta("--beta1"), default=d.beta1, help="Adam beta 2")
    add("--batch-size", type=_positive_int("--batch-size"), default=d.batch_size,
        help="samples per batch")
    add("--epochs", type=_positive_int("--epochs"), default=d.epochs,
        help="training length; default: 25000 for DeepNAG (epochs), "
        "150000 for DeepGAN (generator steps)")
    add("--time-limit", type=_duration, default=d.time_limit,
        help="stop training cleanly after this much wall-clock time (e.g. 90s, 30m, 2h), writing "
        "checkpoint-last.pt and the command that continues it (default: no limit)")
    add("--deepgan-critic-iters", type=_positive_int("--deepgan-critic-iters"),
        default=d.deepgan_critic_iters, help="DeepGAN: critic steps per generator step")
    add("--deepgan-lambda", type=_positive_float("--deepgan-lambda"),
        default=d.deepgan_lambda, help="DeepGAN: gradient-penalty weight")


def _runtime_and_output_flags(add: _Add, d: Config) -> None:
    add("--device", type=_choice("device", DEVICES), default=d.device,
        help="where to train: auto picks CUDA when available")
    add("--amp", choices=("none", "bf16"), default=d.amp,
        help="run the generator under bfloat16 autocast (CPU and CUDA); the loss stays float32")
    add("--skip-nonfinite", action="store_true",
        help="skip an optimiser step whose loss or gradient is NaN/inf instead of stopping the run")
    add("--num-threads", type=_non_negative_int("--num-threads"), default=d.num_threads,
        help="CPU threads for torch and Numba (0: the cores available)")

    add("--logdir", default=d.logdir, help="parent folder of the run directories")
    add("--experiment-name", default=d.experiment_name,
        help="suffix of the run directory's name")
    add("--use-tensorboard", type=int, choices=(0, 1), default=d.use_tensorboard,
        help="write TensorBoard logs (1) or not (0)")
    add("--vis-frequency", type=_non_negative_int("--vis-frequency"), default=d.vis_frequency,
        help="epochs between sample figures in TensorBoard (0 disables)")
    add("--checkpoint-frequency", type=_non_negative_int("--checkpoint-frequency"),
        default=d.checkpoint_frequency,
        help="epochs between periodic checkpoints (0 disables; best and final are always kept)")
    add("--restart-every", type=_non_negative_int("--restart-every"), default=d.restart_every,
        help="under torchrun: epochs between the checkpoint-last.pt that a worker group restarted by "
        "torchrun --max-restarts resumes from, so a lost worker costs at most that many epochs "
        "(0: never; a single-process run ignores it)")


def _sample_flags(add: _Add, d: Config) -> None:
    add("--output", default=d.output,
        help="with --evaluate: folder for the figures (default: evaluation/ in the run directory); "
        "with --generate: the output path, PATH.npz (and PATH/ with --format native)")
    add("--show", action="store_true", help="with --evaluate: also open a window (needs a display)")
    add("--num-per-class", type=_positive_int("--num-per-class"), default=d.num_per_class,
        help="synthetic samples per class: what --generate writes, and what --metrics measures")
    add("--synthesizer", type=_choice("synthesizer", SYNTHESIZERS), default=d.synthesizer,
        help="what writes the samples: " + "; ".join(f"{s.name}: {s.help}" for s in SYNTHESIZERS.values())
        + ". The simple ones transform the --generate checkpoint's training samples, else those the data flags "
        "select; the mixes need --generate")
    add("--num-per-sample", type=_positive_int("--num-per-sample"), default=d.num_per_sample,
        help="with --synthesizer=gpsr or chain: variants of every real sample")
    add("--format", choices=("npz", "native"), default=d.format,
        help="with --generate: npz only, or also a folder in the data set's own file format")
    add("--eval-every", type=_interval, default=d.eval_every, metavar="EPOCHS|DURATION",
        help="while training, every N epochs (50) or so much time (10m): TSTR against the real-data "
        "yardstick and diversity, to TensorBoard and the console (on held-out writers when there are)")
    add("--best-by", type=_choice("--best-by", BEST_BY), default=d.best_by,
        help="checkpoint-best.pt is the lowest loss (the reference) or, with --eval-every, the highest TSTR")
    add("--metrics", action="store_true",
        help="with --evaluate or --generate: measure quality (recognition accuracy, fidelity, "
        "diversity) into metrics.json")


def parse_args(argv: Sequence[str] | None = None) -> tuple[Config, set[str]]:
    """Parse and validate the command line.

    Returns the configuration and the names of the flags the user gave explicitly
    (so an action on a checkpoint can reject flags that conflict with it).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    values = vars(args)
    sentinel = object()
    probe = build_parser()
    probe.set_defaults(**{k: sentinel for k in values})
    explicit = {k for k, v in vars(probe.parse_args(argv)).items() if v is not sentinel}
    try:
        action = chosen(values, explicit)
    except ValueError as error:
        raise UserError(str(error)) from None
    why = (refused(action, explicit) or missing(action, values)
           or (SYNTHESIZERS[values["synthesizer"]].refused(values, explicit) if action.name == "generate" else None)
           or _value_refused(values, explicit, action.name))
    if why:
        raise UserError(why)
    values.update({name: value for name, value in RECIPES[args.recipe].items() if name not in explicit})
    return Config(**values), explicit


def _value_refused(values: dict[str, Any], explicit: set[str], action: str) -> str | None:
    """Why flag values do not go together, whatever the action (None when they do)."""
    if values["resample_n"] < 2:
        return "--resample-n must be at least 2 (a gesture needs two points)"
    if values["seed"] < -1:
        return f"--seed must be -1 (random) or a non-negative integer, got {values['seed']}"
    if values["dataset"] == "folder" and "datapath" not in explicit and action in ("train", "generate") \
            and not values["generate"]:
        return "--dataset=folder needs --datapath=DIR, a folder with one subfolder of sample files per class"
    if "subject_pattern" in explicit and values["dataset"] != "folder":
        return "--subject-pattern applies to --dataset=folder only"
    if "speeds" in explicit and values["dataset"] != "dollar-gds":
        return "--speeds applies to dollar-gds only"
    if values["best_by"] == "tstr" and not values["eval_every"] and action != "resume":
        return "--best-by=tstr chooses the best checkpoint by measured TSTR: give --eval-every too"
    if "diversity_weight" in explicit and values["model"] != "DeepNAG":
        return "--diversity-weight weighs a term of DeepNAG's loss; it does not go with --model=DeepGAN"
    return None


__all__ = ["action_of", "build_parser", "main", "parse_args"]
