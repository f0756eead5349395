"""How each flag's text becomes a value, with errors that name the flag: argparse `type=` functions.

`deepnag.config` declares every flag with one of these; `deepnag.cli` builds the parser from the declarations.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence

DURATION_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
DOLLAR_GDS_SPEEDS = ("slow", "medium", "fast")
MMG_DEVICES = ("pen", "finger", "both")
STROKE_ORDERS = ("drawn", "canonical")
"""--stroke-order: multistroke pen samples as written, or in one canonical order and direction."""


def int_at_least(name: str, minimum: int):
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


def positive_int(name: str):
    return int_at_least(name, 1)


def non_negative_int(name: str):
    return int_at_least(name, 0)


def finite_float(name: str, zero_allowed: bool):
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


def positive_float(name: str):
    return finite_float(name, zero_allowed=False)


def non_negative_float(name: str):
    return finite_float(name, zero_allowed=True)


def beta(name: str):
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not 0.0 <= value < 1.0:
            raise argparse.ArgumentTypeError(f"{name} must be in [0, 1), got {text}")
        return value

    return convert


def choice(name: str, choices: Sequence[str]):
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


def speeds(text: str) -> tuple[str, ...]:
    speeds = tuple(s.strip().lower() for s in text.split(",") if s.strip())
    unknown = [s for s in speeds if s not in DOLLAR_GDS_SPEEDS]
    if not speeds or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown speed(s) {', '.join(unknown) or repr(text)}; known: {', '.join(DOLLAR_GDS_SPEEDS)}"
        )
    return speeds


def seconds(name: str, text: str) -> float:
    """A duration with a unit, 90s / 30m / 2h (or 1.5h), in seconds; the error names the flag."""
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    try:
        total = float(value) * DURATION_UNITS[unit]
    except (KeyError, ValueError):
        raise argparse.ArgumentTypeError(f"{name} must be a duration like 90s, 30m or 2h, got {text!r}") from None
    if not 0 < total < float("inf"):
        raise argparse.ArgumentTypeError(f"{name} must be positive, got {text!r}")
    return total


def duration(text: str) -> float:
    """argparse type of --time-limit."""
    return seconds("--time-limit", text)


def interval(text: str) -> str:
    """argparse type of --eval-every: a number of epochs, or a duration (kept as text, read by Config)."""
    text = text.strip()
    if not text:  # the default: never
        return ""
    if text.isdigit():
        if int(text) < 1:
            raise argparse.ArgumentTypeError("--eval-every must be at least 1 epoch")
        return str(int(text))
    try:
        seconds("--eval-every", text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"--eval-every must be a number of epochs (50) or a duration (10m, 90s, 1h), got {text!r}") from None
    return text


RECOGNIZERS = ("gru", "minirocket")
"""--recognizer's built-in names (`deepnag.recognition.interface.BUILT_IN`)."""


def recognizers(text: str) -> tuple[str, ...]:
    """--recognizer: comma-separated built-in names or module:Class, each checked for its form (imported later)."""
    found = names(text)
    for name in found:
        if name not in RECOGNIZERS and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*", name):
            raise argparse.ArgumentTypeError(f"--recognizer {name!r} is neither one of {', '.join(RECOGNIZERS)} nor "
                                             "module:Class (a scikit-learn-style classifier importable from your path)")
    return found


def names(text: str) -> tuple[str, ...]:
    """A comma-separated list of names."""
    return tuple(s.strip() for s in text.split(",") if s.strip())
