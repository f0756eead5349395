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
from pathlib import Path
from typing import Any, NoReturn, Sequence

from deepnag._version import __version__
from deepnag.actions import ACTIONS, FLAG_GROUPS, RUN_SETTINGS, chosen, flag, missing, refused
from deepnag.config import MULTISTROKE_DATASETS, RECIPES, WHAT_TO_RUN, Config, flag_names
from deepnag.errors import UserError
from deepnag.flag_types import choice
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
    """The command-line parser, from `Config`'s flag declarations; `--help` shows every flag with its default."""
    p = _ArgumentParser(
        prog=command().removeprefix("python "),
        description="DeepNAG: train a gesture generator (DeepNAG or the DeepGAN baseline), "
        "or evaluate a trained checkpoint.",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    groups = {WHAT_TO_RUN: p.add_argument_group(WHAT_TO_RUN, "one action per command; without one, train: "
                                                + "; ".join(f"{a.name}: {a.help}" for a in ACTIONS.values()))}
    for name, fields in FLAG_GROUPS.items():
        groups[name] = p.add_argument_group(name, _takers(fields))
    for field in dataclasses.fields(Config):
        options = {**field.metadata["argparse"], **_REGISTRY_CHOICES.get(field.name, {})}
        help_text = field.metadata["help"].replace("{synthesizers}", _SYNTHESIZER_NAMES)
        if options.get("action") != "store_true":
            options["default"] = field.default
        groups[field.metadata["group"]].add_argument(*flag_names(field), dest=field.name, help=help_text, **options)
    return p


_REGISTRY_CHOICES = {"synthesizer": {"type": choice("synthesizer", tuple(SYNTHESIZERS))}}
"""What a flag's declaration leaves to a registry above the configuration: --synthesizer's names."""
_SYNTHESIZER_NAMES = "; ".join(f"{s.name}: {s.help}" for s in SYNTHESIZERS.values())


def _takers(fields: Sequence[str]) -> str:
    """Which actions take a group of flags, and which of them an action on a checkpoint may change."""
    takers = [a for a in ACTIONS.values() if set(fields) & set(a.accepts)]
    text = f"taken by: {', '.join(a.name for a in takers)}"
    if not set(fields) <= set(RUN_SETTINGS):
        return text
    changes = [f"{a.name}: {', '.join(flag(f) for f in fields if f in a.may_differ)}" for a in takers
               if a.may_differ is not None and set(fields) & set(a.may_differ)]
    return (f"{text}; an action on a checkpoint reads them from it (a flag given must agree with it), "
            f"except what it may change ({'; '.join(changes) or 'none here'})")


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
    if "datapath" in explicit and values["datapath"] != Config.datapath:  # as a checkpoint records it: from anywhere
        values["datapath"] = str(Path(values["datapath"]).expanduser().resolve())
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
    if "speeds" in explicit and values["dataset"] not in ("dollar-gds", "mmg"):
        return "--speeds applies to dollar-gds and mmg only"
    if "mmg_device" in explicit and values["dataset"] != "mmg" and (action == "train" or "dataset" in explicit):
        return "--mmg-device applies to --dataset=mmg only"  # (a checkpoint's own data set is checked against it)
    pen = values["dataset"] in MULTISTROKE_DATASETS or values["dataset"] == "folder"  # (a folder's samples: on loading)
    if values["stroke_order"] != "drawn" and not pen and (action == "train" or "dataset" in explicit):  # (checkpoint: its own)
        return (f"--stroke-order={values['stroke_order']} applies to multistroke pen data (--dataset=mmg, or a folder "
                f"of x, y, pen-state samples); {values['dataset']} has one stroke or none")
    if values["best_by"] == "tstr" and not values["eval_every"] and action != "resume":
        return "--best-by=tstr chooses the best checkpoint by measured TSTR: give --eval-every too"
    if "diversity_weight" in explicit and values["model"] != "DeepNAG":
        return "--diversity-weight weighs a term of DeepNAG's loss; it does not go with --model=DeepGAN"
    return None


__all__ = ["action_of", "build_parser", "main", "parse_args"]
