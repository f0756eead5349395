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
