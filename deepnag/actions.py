"""What the command line can do, in one table: each action and the flags it takes.

A command runs exactly one action: `--evaluate`, `--resume` or `--generate`
name theirs with a checkpoint, `--synthesizer` (without a checkpoint) asks for
`generate` with a simple synthesizer, and a command with none of them trains.
Each action lists the flags it accepts (any other flag given is refused with
one line naming the actions it belongs to) and, for an action on a checkpoint,
the flags whose value may differ from the checkpoint's (`may_differ`: any
other accepted flag must agree with it). The table holds no code, so that the
layers that read it (parsing, training, evaluation) sit above it; the functions
that run each action are bound on the top floor, in `deepnag.commands`. The
synthesizers of `generate` are in `deepnag.generate.synthesizers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deepnag.config import flag_groups

FLAG_GROUPS: dict[str, tuple[str, ...]] = flag_groups()
"""Every flag but the actions' own, in the groups of `--help` (Config field names), from their declarations."""

RUN_SETTINGS = (*FLAG_GROUPS["data"], *FLAG_GROUPS["model and optimisation"], *FLAG_GROUPS["runtime"],
                *FLAG_GROUPS["training outputs"])
"""What a training run is made of: a checkpoint records them, so an action on one takes them from it."""

MACHINE = ("device", "num_threads")
"""Settings of the machine, not of the run: an action on a checkpoint may always choose its own."""


@dataclass(frozen=True)
class Action:
    """One thing a command does."""

    name: str
    flag: str | None  # the Config field that asks for it (None: the default action)
    called: str  # the action as errors name it: "--evaluate", "training"
    help: str
    accepts: tuple[str, ...]  # flags it takes besides its own
    may_differ: tuple[str, ...] | None = None  # on a checkpoint (generate's: when given one): flags that may differ
    needs: tuple[tuple[str, str], ...] = ()  # flags it cannot run without, each with what to give


EVALUATE_MAY_DIFFER = ("evaluate", "output", "show", "datapath", "download_url", *MACHINE, "seed", "logdir", "metrics",
                       "recognizer", "num_per_class")
RESUME_MAY_DIFFER = ("resume", "fresh_critic", "epochs", "time_limit", "lr", "stroke_order", "eval_every",
                     "vis_frequency", "checkpoint_frequency", "restart_every", "use_tensorboard", *MACHINE,
                     "datapath", "download_url", "logdir", "skip_nonfinite", "amp")
GENERATE_MAY_DIFFER = ("generate", *FLAG_GROUPS["output and measurements"], *FLAG_GROUPS["samples to write"],
                       "datapath", "download_url", *MACHINE, "seed", "logdir", "classes")
"""--generate on a checkpoint: --classes picks among its classes (its generator's samples only)."""

ACTIONS: Mapping[str, Action] = {a.name: a for a in (
    Action("evaluate", "evaluate", "--evaluate",
           "figures (and with --metrics, measurements) of a trained checkpoint; model and data set come from it",
           (*RUN_SETTINGS, *FLAG_GROUPS["output and measurements"], *FLAG_GROUPS["figures"]), EVALUATE_MAY_DIFFER),
    Action("resume", "resume", "--resume", "continue the run that wrote a checkpoint, in its run "
           "directory", (*RUN_SETTINGS, "fresh_critic"), RESUME_MAY_DIFFER),
    Action("generate", "generate", "--generate",
           "write synthetic samples to --output: a checkpoint's, or a --synthesizer's", (*RUN_SETTINGS,
           *FLAG_GROUPS["output and measurements"], *FLAG_GROUPS["samples to write"]), GENERATE_MAY_DIFFER,
           needs=(("output", "PATH (samples go to PATH.npz)"),)),
    Action("realism_study", "realism_study", "--realism-study",
           "serve a HYPE∞ study in the browser: people tell real gestures from generated ones of each checkpoint",
           (*FLAG_GROUPS["realism study"], "datapath", "seed", "logdir")),
    Action("train", None, "training", "train a generator (what a command without an action does)",
           RUN_SETTINGS),
)}
"""The actions, in the order a command line is matched against them."""


def flag(name: str) -> str:
    """A Config field as its command-line flag: num_per_class → --num-per-class."""
    return f"--{name.replace('_', '-')}"


def chosen(values: Mapping[str, Any], explicit: set[str]) -> Action:
    """The action a command line asks for: the one whose flag it gives (generate also by --synthesizer), else train.

    Raises ValueError naming the flags when it asks for more than one.
    """
    asked = [a for a in ACTIONS.values() if a.flag and values[a.flag]]
    if not asked and "synthesizer" in explicit:
        asked = [ACTIONS["generate"]]
    if len(asked) > 1:
        raise ValueError(f"{' and '.join(flag(a.flag or '') for a in asked)} cannot be combined: pick one")
    return asked[0] if asked else ACTIONS["train"]


def refused(action: Action, explicit: set[str]) -> str | None:
    """Why the flags given do not go with `action` (None when they do): the first flag it does not take."""
    own = {action.flag} if action.flag else set()
    for name in sorted(explicit - set(action.accepts) - own - {a.flag for a in ACTIONS.values()}):
        takers = [a.called for a in ACTIONS.values() if name in a.accepts]
        return f"{flag(name)} applies to {' and '.join(takers)} only, not to {action.called}"
    return None


def missing(action: Action, values: Mapping[str, Any]) -> str | None:
    """What `action` needs and the command line lacks (None: nothing)."""
    for name, what in action.needs:
        if not values[name]:
            asked = flag(action.flag or "") if action.flag and values[action.flag] else f"--synthesizer={values['synthesizer']}"
            return f"{asked} needs {flag(name)}={what}"
    return None


__all__ = ["ACTIONS", "FLAG_GROUPS", "MACHINE", "RUN_SETTINGS", "Action", "chosen", "flag", "missing", "refused"]
