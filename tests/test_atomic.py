"""Atomic writes: a crash mid-write leaves the previous file intact and no temporary file."""

from __future__ import annotations

import re
import shutil
from collections import namedtuple

import pytest
import torch

from deepnag import atomic, checkpoint
from deepnag.errors import UserError


def test_crash_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint-best.pt"
    checkpoint.save({"format": "x", "value": torch.arange(3)}, path)
    before = path.read_bytes()

    def dies_halfway(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", dies_halfway)
    with pytest.raises(UserError, match=f"^cannot write {re.escape(str(path))}: no space left on its disk after "
                                        "writing 0.0 MB of it; the previous checkpoint-best.pt is intact; free some "
                                        "space there, or write elsewhere \\(--logdir for runs, --output for samples "
                                        "and figures\\)$"):
        checkpoint.save({"format": "x", "value": torch.arange(5)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-best.pt"]  # no temporary file left


def test_writable_folder_names_the_folder_and_the_remedy_for_each_failure(tmp_path, monkeypatch):
    """The one output check: missing, not creatable, not writable and full each give one line naming the folder."""
    from pathlib import Path

    from deepnag.atomic import writable_folder
    from deepnag.errors import UserError

    missing = tmp_path / "no" / "such"
    with pytest.raises(UserError, match=rf"^cannot write {missing}/x\.npz: folder {missing} does not exist; do this$"):
        writable_folder(missing, "do this", target=missing / "x.npz")
    assert writable_folder(missing, "do this", create=True) == missing and missing.is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError, match=rf"^cannot write into {blocker}/sub \(.+\); do this$"):
        writable_folder(blocker / "sub", "do this", create=True)
    monkeypatch.setattr("os.access", lambda path, mode: False)
    with pytest.raises(UserError, match=rf"^folder {missing} is not writable; do this$"):
        writable_folder(missing, "do this")
    monkeypatch.undo()

    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    writable_folder(missing, "do this")  # no probe, no write
    with pytest.raises(UserError, match=r"\(No space left on device\); do this$"):
        writable_folder(missing, "do this", probe=True)
    assert list(missing.iterdir()) == []


def test_torchs_own_error_on_a_full_disk_is_the_same_one_line(tmp_path, monkeypatch):
    """torch.save on a full file system raises RuntimeError ("unexpected pos …"), not OSError: read with the free space."""
    def torch_fails(obj, f, *args, **kwargs):
        f.write(b"x" * (3 << 20))
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 3145728 vs 3145600")

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(torch, "save", torch_fails)
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: usage(10 << 20, 10 << 20, 4096))
    with pytest.raises(UserError, match="no space left on its disk after writing 3.0 MB of it; nothing was left behind"):
        checkpoint.save({"x": 1}, tmp_path / "checkpoint-last.pt")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: usage(10 << 20, 0, 10 << 20))
    with pytest.raises(RuntimeError, match="unexpected pos"):  # with room to spare it is not a full disk: a bug
        checkpoint.save({"x": 1}, tmp_path / "checkpoint-last.pt")


def test_a_folder_the_system_refuses_is_one_line(tmp_path):
    refused = tmp_path / "not-a-folder"
    refused.write_text("a file")
    with pytest.raises(UserError, match=f"^cannot write {re.escape(str(refused / 'x.npz'))}: Not a directory; "
                                        "nothing was left behind; choose a folder you can write to"):
        atomic.atomic_write(refused / "x.npz", lambda out: out.write(b"x"))
