"""Atomic writes: a crash mid-write leaves the previous file intact and no temporary file."""

from __future__ import annotations

import pytest
import torch

from deepnag import checkpoint


def test_crash_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint-best.pt"
    checkpoint.save({"format": "x", "value": torch.arange(3)}, path)
    before = path.read_bytes()

    def dies_halfway(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", dies_halfway)
    with pytest.raises(OSError):
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
