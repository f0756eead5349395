"""The top floor: the function that runs each action of `deepnag.actions`, and what `--metrics` runs after generate.

Imported by the command line when a command runs (not to parse flags or show --help), so that parsing stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from deepnag.config import Config
from deepnag.evaluation import evaluate, report
from deepnag.evaluation.monitor import QualityMonitor
from deepnag.generate import export
from deepnag.generate.synthesizers import SYNTHESIZERS
from deepnag.train import loop

Handler = Callable[[Config, set[str]], Any]


def train_command(config: Config, explicit: set[str]) -> Path:
    """train's entry: the training loop, measuring quality with `--eval-every` (the monitor lives above training)."""
    return loop.train(config, explicit, quality=QualityMonitor)


MEASURES: Mapping[str, Callable[[Config, set[str], Any], Any]] = {"generator": report.measure_generated}
"""What `--metrics` runs on a synthesizer's output; a synthesizer not here says why not (`Synthesizer.why_not`)."""


def synthesize(config: Config, explicit: set[str]) -> Any:
    """generate's entry: the --synthesizer's samples written, then with --metrics their measurement."""
    made = export.synthesize_command(config, explicit)
    measure = MEASURES.get(SYNTHESIZERS[config.synthesizer].name)
    return measure(config, explicit, made) if config.metrics and measure is not None else made


def realism_study(config: Config, explicit: set[str]) -> Any:
    """realism_study's entry: the web stack is imported only when a study runs."""
    from deepnag.realism import study

    return study.serve(config, explicit)


HANDLERS: Mapping[str, Handler] = {"evaluate": evaluate.evaluate, "resume": loop.train, "generate": synthesize,
                                   "realism_study": realism_study, "train": train_command}
"""Each action's function, by the action's name in `deepnag.actions.ACTIONS`."""


def run(action: str, config: Config, explicit: set[str]) -> Any:
    """Run the named action."""
    return HANDLERS[action](config, explicit)
