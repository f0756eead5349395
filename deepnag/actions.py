"""What the command line can do, in one table: each action, its entry function and the flags it takes.

A command runs exactly one action: `--evaluate`, `--resume` or `--generate`
name theirs with a checkpoint, `--synthesizer` (without a checkpoint) asks for
`generate` with a simple synthesizer, and a command with none of them trains.
Each action lists the flags it accepts (any other flag given is refused with
one line naming the actions it belongs to) and, for an action on a checkpoint,
the flags whose value may differ from the checkpoint's (`may_differ`: any
other accepted flag must agree with it). Synthesizers are options of
`generate`, one row each in `SYNTHESIZERS`: adding one is one entry there and
its function. Entries are "module:function" names, imported only when run, so
this table sits below every layer that reads it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

FLAG_GROUPS: dict[str, tuple[str, ...]] = {
    "data": ("dataset", "datapath", "download_url", "speeds", "subject_pattern", "classes", "subjects",
             "holdout_subjects", "train_subject_count", "max_per_class", "chain_variants"),
    "model and optimisation": ("model", "seed", "latent_dim", "gamma", "diversity_weight", "resample_n", "recipe", "lr",
                               "lr_warmup", "ema", "beta0", "beta1", "batch_size", "epochs", "time_limit",
                               "deepgan_critic_iters", "deepgan_lambda"),
    "runtime": ("device", "amp", "skip_nonfinite", "num_threads"),
    "training outputs": ("logdir", "experiment_name", "use_tensorboard", "vis_frequency", "checkpoint_frequency",
                         "restart_every", "eval_every", "best_by"),
    "output and measurements": ("output", "num_per_class", "metrics"),
    "samples to write": ("synthesizer", "num_per_sample", "format"),
    "figures": ("show",),
}
"""Every flag but the actions' own, in the groups of `--help` (Config field names)."""

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
    entry: str  # "module:function", called with (config, explicit flag names)
    help: str
    accepts: tuple[str, ...]  # flags it takes besides its own
    may_differ: tuple[str, ...] | None = None  # on a checkpoint: flags that may differ from its settings
    needs: tuple[tuple[str, str], ...] = ()  # flags it cannot run without, each with what to give

    def run(self, config: Any, explicit: set[str]) -> Any:
        """Import the entry function and call it."""
        return _function(self.entry)(config, explicit)


@dataclass(frozen=True)
class Synthesizer:
    """One way `generate` makes samples."""

    name: str
    entry: str  # "module:function", called with (config, explicit flag names)
    help: str
    needs_checkpoint: bool  # reads a --generate checkpoint (else: the checkpoint's, or the data flags', real samples)
    count: str  # the flag that says how many: num_per_class or num_per_sample
    measure: str  # "module:function" that --metrics runs on what the entry returned, else why --metrics does not go

    @property
    def measures(self) -> bool:
        """Whether --metrics goes with this synthesizer (`measure` names a function, not a refusal)."""
        return re.fullmatch(r"[\w.]+:\w+", self.measure) is not None


COUNTS = {"num_per_class": "--num-per-class samples of every class",
          "num_per_sample": "--num-per-sample variants of every real sample"}
"""The two ways of saying how many samples a synthesizer writes."""

_EXPORT = "deepnag.generate.export"
SYNTHESIZERS: Mapping[str, Synthesizer] = {s.name: s for s in (
    Synthesizer("generator", f"{_EXPORT}:generate_command", "the --generate checkpoint's generator", True,
                "num_per_class", "deepnag.evaluation.report:measure_generated"),
    Synthesizer("gpsr", f"{_EXPORT}:transform_command", "stochastic resampling of real samples (Taranta et al. 2016): "
                "the baseline to compare with", False, "num_per_sample",
                "--metrics measures a generator; --generate=CHECKPOINT --metrics reports GPSR beside it"),
    Synthesizer("chain", f"{_EXPORT}:transform_command", "GPSR, then a random rotation and stretch "
                "(deepnag/data/chain.py)", False, "num_per_sample",
                "--metrics measures a generator; --generate=CHECKPOINT --metrics reports the chain beside it"),
    Synthesizer("mix", f"{_EXPORT}:mix_command", "per class half the generator's samples, half GPSR of its training "
                "samples", True, "num_per_class",
                "--metrics measures the generator, and its 'both (½ + ½)' rows are this mix: drop --synthesizer=mix "
                "to run it"),
    Synthesizer("chain-mix", f"{_EXPORT}:mix_command", "per class half the generator's samples, half chained "
                "variants of its training samples", True, "num_per_class",
                "--metrics measures the generator, and its '½ chain ½ gen' rows are this mix: drop "
                "--synthesizer=chain-mix to run it"),
    Synthesizer("vetted-chain-mix", "deepnag.evaluation.vetting:mix_command", "as chain-mix, the generator's half only "
                "samples that a 1-NN recogniser of its training samples puts in their class "
                "(deepnag/evaluation/vetting.py; a class short of them gets more chained variants)", True,
                "num_per_class", "--metrics measures the generator, and its '½ chain ½ vetted gen' rows are this "
                "mix: drop --synthesizer=vetted-chain-mix to run it"),
)}
"""`--synthesizer`: the options of `generate`."""

EVALUATE_MAY_DIFFER = ("evaluate", "output", "show", "datapath", "download_url", *MACHINE, "seed", "logdir", "metrics",
                       "num_per_class")
RESUME_MAY_DIFFER = ("resume", "fresh_critic", "epochs", "time_limit", "eval_every", "vis_frequency",
                     "checkpoint_frequency", "restart_every", "use_tensorboard", *MACHINE, "datapath", "download_url",
                     "logdir", "skip_nonfinite", "amp")

ACTIONS: Mapping[str, Action] = {a.name: a for a in (
    Action("evaluate", "evaluate", "--evaluate", "deepnag.evaluation.evaluate:evaluate",
           "figures (and with --metrics, measurements) of a trained checkpoint; model and data set come from it",
           (*RUN_SETTINGS, *FLAG_GROUPS["output and measurements"], *FLAG_GROUPS["figures"]), EVALUATE_MAY_DIFFER),
    Action("resume", "resume", "--resume", "deepnag.train.loop:train", "continue the run that wrote a checkpoint, in its run "
           "directory", (*RUN_SETTINGS, "fresh_critic"), RESUME_MAY_DIFFER),
    Action("generate", "generate", "--generate", "deepnag.actions:synthesize",
           "write synthetic samples to --output: a checkpoint's, or a --synthesizer's", (*RUN_SETTINGS,
           *FLAG_GROUPS["output and measurements"], *FLAG_GROUPS["samples to write"]),
           needs=(("output", "PATH (samples go to PATH.npz)"),)),
    Action("train", None, "training", "deepnag.cli:train_command", "train a generator (what a command without an action does)",
           RUN_SETTINGS),
)}
"""The actions, in the order a command line is matched against them."""


def _function(entry: str) -> Callable[..., Any]:
    module, name = entry.split(":")
    return getattr(importlib.import_module(module), name)


def synthesize(config: Any, explicit: set[str]) -> Any:
    """generate's entry: the chosen synthesizer's function, then with --metrics its measurement."""
    synthesizer = SYNTHESIZERS[config.synthesizer]
    made = _function(synthesizer.entry)(config, explicit)
    return _function(synthesizer.measure)(config, explicit, made) if config.metrics else made


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


def synthesizer_refused(values: Mapping[str, Any], explicit: set[str]) -> str | None:
    """Why generate's flags do not go with its synthesizer (None when they do)."""
    synthesizer = SYNTHESIZERS[values["synthesizer"]]
    named = f"--synthesizer={synthesizer.name}"
    if synthesizer.needs_checkpoint and not values["generate"]:
        return f"{named} needs --generate=CHECKPOINT ({synthesizer.help})"
    if values["metrics"] and not synthesizer.measures:
        return synthesizer.measure
    other = ({"num_per_class", "num_per_sample"} - {synthesizer.count}).pop()
    if other in explicit and not (other == "num_per_class" and values["metrics"]):
        return f"{flag(other)} does not go with {named}, which writes {COUNTS[synthesizer.count]}"
    return None


__all__ = ["ACTIONS", "FLAG_GROUPS", "MACHINE", "RUN_SETTINGS", "SYNTHESIZERS", "Action", "Synthesizer", "chosen",
           "flag", "missing", "refused", "synthesize", "synthesizer_refused"]
