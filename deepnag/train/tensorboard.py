"""TensorBoard's writer with the one-line error every other writer gives: a full disk or a refused folder names the
folder and what to do, instead of a traceback from the writer's background thread."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from deepnag.atomic import cannot_write

log = logging.getLogger(__name__)

KEPT = "the checkpoints written so far are intact"


class TensorBoard:
    """`torch.utils.tensorboard.SummaryWriter` on `folder`: `add_scalar`, `add_image`, `flush`, `close` as its own,
    a failed write (in the call, or earlier in its writer thread) a one-line `UserError`. While open, a failure of
    TensorBoard's writer thread is logged at debug level instead of printed as a traceback (it surfaces as that
    error on the next call); other threads' failures go to the previous `threading.excepthook`."""

    def __init__(self, folder: Path, purge_step: int | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.folder = folder
        self._previous_hook = threading.excepthook
        threading.excepthook = self._thread_failed
        try:
            self._writer = SummaryWriter(str(folder), purge_step=purge_step)
        except OSError as error:
            threading.excepthook = self._previous_hook
            raise cannot_write(folder, error, kept=KEPT) from None

    def _thread_failed(self, args: threading.ExceptHookArgs) -> None:
        if type(args.thread).__module__.startswith("tensorboard."):
            log.debug("TensorBoard's writer thread failed: %s", args.exc_value)
            return
        self._previous_hook(args)

    def _guarded(self, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._writer, name)(*args, **kwargs)
        except OSError as error:
            raise cannot_write(self.folder, error, kept=KEPT) from None

    def add_scalar(self, *args: Any, **kwargs: Any) -> None:
        self._guarded("add_scalar", *args, **kwargs)

    def add_image(self, *args: Any, **kwargs: Any) -> None:
        self._guarded("add_image", *args, **kwargs)

    def flush(self) -> None:
        self._guarded("flush")

    def close(self) -> None:
        """Flush and close; the thread hook is the previous one again, whatever happens."""
        try:
            self._guarded("close")
        finally:
            threading.excepthook = self._previous_hook


__all__ = ["KEPT", "TensorBoard"]
