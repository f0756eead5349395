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

from deepnag.atomic import atomic_write, writable_folder
from deepnag.errors import UserError

log = logging.getLogger(__name__)

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
    for sub in SUBFOLDERS:
        writable_folder(path / sub, "free space, fix its permissions or choose another --logdir", create=True,
                        probe=sub == "logs")


def of_checkpoint(checkpoint: str | Path) -> Path | None:
    """The run directory a checkpoint lies in (`<run>/checkpoints/<file>` beside `<run>/config.json`), else None."""
    folder = Path(checkpoint).resolve().parent
    if folder.name == "checkpoints" and (folder.parent / "config.json").is_file():
        return folder.parent
    return None


def _job_pointer(logdir: str | Path, job: str) -> Path:
    return Path(logdir) / f".torchrun-{re.sub(r'[^A-Za-z0-9_.-]', '_', job)}"


def remember_for_restarts(logdir: str | Path, job: str, path: Path) -> None:
    """Note which run directory torchrun job `job` writes, so that its restarted workers find it again."""
    atomic_write(_job_pointer(logdir, job), lambda out: out.write(str(path.resolve()).encode()))


def forget_job(logdir: str | Path, job: str) -> None:
    """Remove the note of torchrun job `job` once it has finished."""
    if job:
        _job_pointer(logdir, job).unlink(missing_ok=True)


def of_job(logdir: str | Path, job: str) -> Path | None:
    """The run directory an earlier start of torchrun job `job` wrote, if any."""
    pointer = _job_pointer(logdir, job)
    if not job or not pointer.is_file():
        return None
    path = Path(pointer.read_text().strip())
    return path if (path / "checkpoints").is_dir() else None


def newest_complete_checkpoint(path: Path) -> Path | None:
    """The most recently written full checkpoint of run directory `path` that loads; a damaged one is skipped
    with a one-line warning (the one before it is used instead)."""
    from deepnag import checkpoint

    candidates = sorted((path / "checkpoints").glob("*.pt"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for candidate in candidates:
        try:
            state = checkpoint.load(candidate)
        except UserError as error:
            log.warning("restart: falling back past a damaged checkpoint: %s", error)
            continue
        if state["kind"] == "full":
            return candidate
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
