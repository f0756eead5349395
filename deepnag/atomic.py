"""Atomic file writes: a temporary file beside the target, renamed over it only when complete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(file)` on a temporary file beside `path`, then rename it over `path`.

    A crash or kill midway leaves the previous file intact and no temporary file behind.
    """

    def through_file(temporary: str) -> None:
        with open(temporary, "r+b") as out:
            write(out)
            out.truncate()

    return atomic_write_path(path, through_file)


def atomic_write_path(path: str | Path, write: Callable[[str], None], suffix: str = ".tmp") -> Path:
    """Call `write(name)` with the name of a temporary file beside `path` (for writers that want a file name, such
    as an animation's), make it durable, then rename it over `path`; the same guarantees as `atomic_write`."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        os.fchmod(handle, 0o644)  # as a plain open() would leave it, not mkstemp's 0600
        os.close(handle)
        write(temporary)
        with open(temporary, "rb") as done:
            os.fsync(done.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
