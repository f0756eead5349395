"""Progress of long steps: a tqdm bar on a terminal, and elsewhere (a log file, CI, nohup) a log line every few
seconds, so that no step runs silent for long wherever the output goes."""

from __future__ import annotations

import logging
import time
from types import TracebackType

from tqdm import tqdm

EVERY_S = 10.0
"""Seconds between log lines when no bar is shown."""


class Progress:
    """Counts work done; `update` after each unit. Use as a context manager (the bar closes on exit)."""

    def __init__(self, total: int, description: str, unit: str, logger: logging.Logger, *, every: float = EVERY_S,
                 enabled: bool = True) -> None:
        self.total, self.description, self.unit, self.logger, self.every = total, description, unit, logger, every
        self.bar = tqdm(total=total, desc=description, unit=unit, disable=None if enabled else True, leave=False,
                        dynamic_ncols=True)
        self.log_lines = enabled and self.bar.disable  # tqdm turned itself off: the output is not a terminal
        self.done = 0
        self.last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.bar.update(n)
        self.done += n
        now = time.monotonic()
        if self.log_lines and now - self.last >= self.every and self.done < self.total:
            self.last = now
            self.logger.info("%s: %d of %d %s", self.description, self.done, self.total, self.unit)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.bar.close()
