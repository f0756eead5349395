"""The run directory: a log folder that cannot be written is found before training starts."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import main
from deepnag.errors import UserError
from deepnag.train import run_dir
from tests.test_loop_faults import TINY


def test_unwritable_log_directory_is_detected_before_training(tmp_path, shared_data, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    assert main.main([f"--datapath={shared_data}", f"--logdir={blocker / 'logs'}", *TINY, "--epochs=1"]) == 2
    assert re.search(r"cannot write into .*not-a-folder/logs/.*choose another --logdir",
                     capsys.readouterr().err)


def test_full_disk_is_detected_before_training(tmp_path, monkeypatch):
    real_write = Path.write_bytes

    def full(self, data):
        if self.name == ".write-test":
            raise OSError(28, os.strerror(28))
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(UserError, match="No space left on device"):
        run_dir.create(tmp_path, "dollar-gds", "DeepNAG")


def test_a_start_that_fails_leaves_no_run_directory(tmp_path, capsys):
    logdir = tmp_path / "logs"
    missing = tmp_path / "no-such-folder"
    assert main.main(["--dataset=folder", f"--datapath={missing}", f"--logdir={logdir}", "--epochs=1"]) == 2
    assert "no-such-folder" in capsys.readouterr().err
    assert not logdir.exists() or not any(logdir.iterdir())
