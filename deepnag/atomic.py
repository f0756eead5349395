"""Writing outputs safely: the folder checked before any work, then atomic file writes (a temporary file beside
the target, renamed over it only when complete)."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from deepnag.errors import UserError

PROBE_BYTES = 4096
"""What `writable_folder(..., probe=True)` writes and removes: enough to find a full disk before a run starts."""


def writable_folder(folder: str | Path, advice: str, *, create: bool = False, probe: bool = False,
                    target: str | Path | None = None) -> Path:
    """`folder` (made first with `create`), or a one-line UserError naming it and `advice` when it is missing,
    cannot be made or is not writable; `probe` also writes a small file, so that a full disk shows now.

    The one check every writer of outputs makes before its work, so a bad --output or --logdir fails before any.
    `target` names the file about to be written, for the message.
    """
    folder = Path(folder)
    writing = f"cannot write {target}: " if target is not None else ""
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise UserError(f"{writing}folder {folder} does not exist; {advice}")
        if not os.access(folder, os.W_OK):
            raise UserError(f"{writing}folder {folder} is not writable; {advice}")
        if probe:
            test = folder / ".write-test"
            test.write_bytes(b"0" * PROBE_BYTES)
            test.unlink()
    except OSError as error:
        raise UserError(f"{writing or 'cannot write into '}{folder} ({error.strerror}); {advice}") from None
    return folder


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
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as error:
        raise cannot_write(path, error) from None
    try:
        os.fchmod(handle, 0o644)  # as a plain open() would leave it, not mkstemp's 0600
        os.close(handle)
        write(temporary)
        with open(temporary, "rb") as done:
            os.fsync(done.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        written = _size(temporary)
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError) or _disk_full(error, path):
            raise cannot_write(path, error, written) from None
        raise
    return path


FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
"""The errors of a file system with no room left (disk, quota, file size)."""
LOW_SPACE = 1 << 20
"""Free bytes below which a writer's own error (torch.save's "unexpected pos") is read as a full disk."""


def _size(name: str) -> int:
    try:
        return os.path.getsize(name)
    except OSError:
        return 0


def _disk_full(error: BaseException, path: Path) -> bool:
    """Whether a writer's non-OSError failure (torch.save raises RuntimeError) came from a file system without room."""
    if not isinstance(error, RuntimeError):
        return False
    try:
        return shutil.disk_usage(path.parent).free < LOW_SPACE
    except OSError:
        return False


def cannot_write(path: Path, error: BaseException, written: int = 0, kept: str | None = None) -> UserError:
    """The one-line error of a failed write: which file, why, how far it got, that nothing older was touched (or
    `kept`: what is intact), and what to do."""
    full = getattr(error, "errno", None) in FULL or not isinstance(error, OSError)
    why = "no space left on its disk" if full else (getattr(error, "strerror", None) or str(error).splitlines()[0])
    needed = f" after writing {written / 2**20:.1f} MB of it" if written else ""
    kept = kept or (f"the previous {path.name} is intact" if path.exists() else "nothing was left behind")
    advice = ("free some space there, or write elsewhere (--logdir for runs, --output for samples and figures)" if full
              else "choose a folder you can write to (--logdir for runs, --output for samples and figures)")
    return UserError(f"cannot write {path}: {why}{needed}; {kept}; {advice}")
