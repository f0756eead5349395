"""The run directory: `<logdir>/<dataset>-<model>-<timestamp>-<host>[-<name>]/`.

Holds `checkpoints/`, `tensorboard/`, `logs/` (a copy of what the console
showed) and `config.json` (the resolved configuration).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import time
from pathlib import Path
from typing import Any, Iterator

from deepnag.errors import UserError

SUBFOLDERS = ("checkpoints", "tensorboard", "logs")


def run_name(dataset: str, model: str, experiment: str = "", when: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "host"
    name = f"{dataset}-{model}-{stamp}-{host}"
    if experiment:
        name += "-" + re.sub(r"[^A-Za-z0-9_.-]", "_", experiment)
    return name


def create(logdir: str | Path, dataset: str, model: str, experiment: str = "") -> Path:
    """Make a new run directory with its subfolders; checks it is writable before training starts."""
    base = Path(logdir) / run_name(dataset, model, experiment)
    path, suffix = base, 1
    while path.exists():  # two runs started in the same second
        suffix += 1
        path = base.with_name(f"{base.name}-{suffix}")
    check_writable(path)
    return path


def check_writable(path: Path) -> None:
    """Fail early, with the folder's name, if an existing run directory cannot be written."""
    try:
        for sub in SUBFOLDERS:
            (path / sub).mkdir(parents=True, exist_ok=True)
        probe = path / "logs" / ".write-test"
        probe.write_bytes(b"0" * 4096)
        probe.unlink()
    except OSError as error:
        raise UserError(f"cannot write the run directory {path} ({error.strerror}); free space, fix its permissions or choose another --logdir") from None


def of_checkpoint(checkpoint: str | Path) -> Path | None:
    """The run directory a checkpoint lies in (`<run>/checkpoints/<file>` beside `<run>/config.json`), else None."""
    folder = Path(checkpoint).resolve().parent
    if folder.name == "checkpoints" and (folder.parent / "config.json").is_file():
        return folder.parent
    return None


def save_config(path: Path, values: dict[str, Any]) -> None:
    (path / "config.json").write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")


CONSOLE_ONLY = "deepnag_console_only"
"""A log record with this attribute set (`extra={CONSOLE_ONLY: True}`) is shown on the console, not written to the file."""
FILE_ONLY = "deepnag_file_only"
"""A log record with this attribute set goes to the run's log file only (a detail too long for the console)."""


@contextlib.contextmanager
def log_to_file(path: Path) -> Iterator[None]:
    """Copy what the console shows (project INFO and up, others' warnings) into `path`, with the file-only details."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(lambda record: not getattr(record, CONSOLE_ONLY, False))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
