"""Faults: signals, non-finite losses, crashes while saving, truncated checkpoints, unwritable logs."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import main
from deepnag import checkpoint
from deepnag.checkpoint import CheckpointError
from deepnag.loss import objective as losses
from deepnag.train import methods
from tests.conftest import ROOT, tiny

TINY = tiny()


def _run_dir(logdir: Path) -> Path:
    (run,) = list(logdir.iterdir())
    return run


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_writes_a_checkpoint_and_resume_matches_uninterrupted(tmp_path, shared_data, signum):
    logdir = tmp_path / "interrupted"
    process = subprocess.Popen(
        [sys.executable, "main.py", f"--datapath={shared_data}", f"--logdir={logdir}", *TINY, "--epochs=100000",
         "--checkpoint-frequency=2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        logs = list(logdir.glob("*/logs/train.log"))
        if logs and "epoch 3/" in logs[0].read_text():
            break
        time.sleep(0.2)
    process.send_signal(signum)
    _, err = process.communicate(timeout=240)
    assert process.returncode == 128 + signum
    last = err.strip().splitlines()[-1]
    # between two steps, as the time limit stops (or between epochs, when the signal came there)
    match = re.fullmatch(rf"stopped: {signal.Signals(signum).name} (?:after epoch (\d+)|in epoch (\d+), after step "
                         rf"\d+ of \d+), checkpoint written; resume with: python main.py --resume=(\S+)", last)
    assert match, err
    stopped_at = int(match.group(1)) if match.group(1) else int(match.group(2)) - 1  # epochs done
    resume_path = Path(match.group(3))
    assert last in (_run_dir(logdir) / "logs" / "train.log").read_text()  # the last line in the log too
    assert resume_path.name == "checkpoint-last.pt" and resume_path.is_file()

    target = stopped_at + 2
    assert main.main([f"--resume={resume_path}", f"--epochs={target}"]) == 0
    assert main.main([f"--datapath={shared_data}", f"--logdir={tmp_path / 'straight'}", *TINY, f"--epochs={target}",
                      "--checkpoint-frequency=2"]) == 0
    resumed, straight = _run_dir(logdir) / "checkpoints", _run_dir(tmp_path / "straight") / "checkpoints"
    a = torch.load(resumed / "checkpoint-final.pt", weights_only=True)
    b = torch.load(straight / "checkpoint-final.pt", weights_only=True)
    assert a["epoch"] == b["epoch"] == target
    assert max((a["generator"][k] - b["generator"][k]).abs().max().item() for k in a["generator"]) <= 1e-6
    # Everything that decides the run's future came back: best loss and best checkpoint, the periodic
    # schedule, the noise and shuffling streams, Adam's state.
    assert a["best_loss"] == pytest.approx(b["best_loss"], rel=1e-6)
    best_a, best_b = (torch.load(d / "checkpoint-best.pt", weights_only=True) for d in (resumed, straight))
    assert best_a["epoch"] == best_b["epoch"] and best_a["best_loss"] == pytest.approx(best_b["best_loss"], rel=1e-6)
    periodic = sorted(p.name for p in straight.glob("checkpoint-epoch-*"))
    assert sorted(p.name for p in resumed.glob("checkpoint-epoch-*")) == periodic and periodic
    for stream in ("data", "latent"):
        assert torch.equal(a["rng"][stream], b["rng"][stream]), stream
    assert a["optimizers"]["generator"]["state"][0]["step"] == b["optimizers"]["generator"]["state"][0]["step"]


def test_a_second_ctrl_c_stops_at_once_and_names_the_checkpoints_still_there(tmp_path, shared_data, monkeypatch, capsys):
    real = methods.DeepNAGMethod.run_epoch
    calls = []

    def run_epoch(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5:  # during epoch 5: Ctrl-C twice, as an impatient user does
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(methods.DeepNAGMethod, "run_epoch", run_epoch)
    logdir = tmp_path / "logs"
    flags = [f"--datapath={shared_data}", f"--logdir={logdir}", *TINY, "--checkpoint-frequency=2", "--epochs=50"]
    assert main.main(flags) == 128 + signal.SIGINT
    last = capsys.readouterr().err.strip().splitlines()[-1]
    folder = _run_dir(logdir) / "checkpoints"
    assert last.startswith(f"stopped: at once during epoch 5, which is lost; {folder} still holds ")
    assert "checkpoint-best.pt" in last and "checkpoint-epoch-4.pt" in last and "error" not in last
    resume = Path(last.rsplit("--resume=", 1)[1])
    assert resume.parent == folder and checkpoint.load(resume)["epoch"] <= 4


def _poison_at(monkeypatch, epoch_step: tuple[int, int], steps_per_epoch: int) -> None:
    """Make the DeepNAG loss NaN at one (epoch, step)."""
    calls = {"n": 0}
    real = losses.deepnag_loss

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        loss, metrics = real(*args, **kwargs)
        epoch, step = epoch_step
        if calls["n"] == (epoch - 1) * steps_per_epoch + step:
            loss = loss * float("nan")
        return loss, metrics

    monkeypatch.setattr(methods, "deepnag_loss", poisoned)


def test_nan_loss_stops_naming_epoch_and_step_and_keeps_checkpoints(tmp_path, shared_data, monkeypatch, capsys):
    _poison_at(monkeypatch, (3, 2), steps_per_epoch=2)  # 8 samples / batch 4
    logdir = tmp_path / "logs"
    assert main.main([f"--datapath={shared_data}", f"--logdir={logdir}", *TINY, "--epochs=5", "--checkpoint-frequency=1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.search(r"epoch 3, step 2: the loss is nan; training stopped, the checkpoints in .* are untouched", err), err
    checkpoints = _run_dir(logdir) / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir() if p.suffix == ".pt") == [
        "checkpoint-best.pt", "checkpoint-epoch-1.pt", "checkpoint-epoch-2.pt"]
    state = checkpoint.load(checkpoints / "checkpoint-epoch-2.pt")
    assert all(torch.isfinite(v).all() for v in state["generator"].values())


def test_skip_nonfinite_skips_the_step_and_finishes(tmp_path, shared_data, monkeypatch, caplog):
    _poison_at(monkeypatch, (2, 1), steps_per_epoch=2)
    logdir = tmp_path / "logs"
    assert main.main([f"--datapath={shared_data}", f"--logdir={logdir}", *TINY, "--epochs=3", "--skip-nonfinite"]) == 0
    assert "skipping step 1: the loss is nan" in caplog.text
    state = checkpoint.load(_run_dir(logdir) / "checkpoints" / "checkpoint-final.pt")
    assert state["epoch"] == 3 and all(torch.isfinite(v).all() for v in state["generator"].values())




def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "c.pt"
    checkpoint.save({"format": checkpoint.FORMAT, "w": torch.randn(1000)}, path)
    path.write_bytes(path.read_bytes()[:1500])
    with pytest.raises(CheckpointError, match=r"c\.pt is damaged, truncated or not a PyTorch checkpoint"):
        checkpoint.load(path)






def test_a_full_disk_while_training_is_one_line_and_keeps_the_last_good_checkpoint(tmp_path, shared_data,
                                                                                   monkeypatch, capsys):
    """The second checkpoint write finds the disk full: one line naming the file, the earlier checkpoint intact."""
    import torch

    from deepnag import checkpoint

    real_save, saves = torch.save, []

    def fills_the_disk(obj, f, *args, **kwargs):
        saves.append(1)
        if len(saves) > 1:
            f.write(b"PK half")
            raise OSError(28, "No space left on device")
        real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", fills_the_disk)
    logdir = tmp_path / "logs"
    assert main.main([f"--datapath={shared_data}", f"--logdir={logdir}", *TINY, "--epochs=3",
                      "--checkpoint-frequency=1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: cannot write ") and ": no space left on its disk after writing" in err, err
    assert "free some space there, or write elsewhere (--logdir for runs" in err
    kept = sorted(p.name for p in (_run_dir(logdir) / "checkpoints").iterdir())
    assert kept and all(not name.startswith(".") for name in kept)  # no temporary file left
    monkeypatch.setattr(torch, "save", real_save)
    assert checkpoint.load(_run_dir(logdir) / "checkpoints" / kept[0])["epoch"] >= 1


def test_a_full_disk_under_tensorboard_is_one_line_not_a_thread_traceback(tmp_path, shared_data, monkeypatch, capsys):
    """TensorBoard writes in a thread of its own; a full disk there is the same one line, no traceback anywhere."""
    import threading

    from tensorboard.summary.writer import record_writer

    hook = threading.excepthook
    epochs = []
    real_write = record_writer.RecordWriter.write

    def fills_the_disk(self, data):
        if epochs:
            raise OSError(28, "No space left on device")
        real_write(self, data)

    monkeypatch.setattr(record_writer.RecordWriter, "write", fills_the_disk)
    logdir = tmp_path / "logs"
    argv = [f"--datapath={shared_data}", f"--logdir={logdir}", *[f for f in TINY if "tensorboard" not in f],
            "--use-tensorboard=1", "--epochs=4", "--checkpoint-frequency=1", "--vis-frequency=0"]
    from deepnag.train import loop

    real_report = loop.Trainer._report

    def report(self, *args, **kwargs):
        real_report(self, *args, **kwargs)
        epochs.append(self.epoch)  # the disk is full from the second epoch's scalars on

    monkeypatch.setattr(loop.Trainer, "_report", report)
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Exception in thread" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot write {_run_dir(logdir) / 'tensorboard'}: no space left on its disk; "
                           "the checkpoints written so far are intact; free some space there, or write elsewhere"), last
    assert threading.excepthook is hook  # the writer's thread hook is undone
    assert any((_run_dir(logdir) / "checkpoints").glob("checkpoint-*.pt"))  # what the earlier epochs wrote


@pytest.mark.parametrize("cached", [True, False])
def test_the_compile_notice_shows_only_when_numbas_cache_lacks_the_kernel(tmp_path, shared_data, monkeypatch, caplog,
                                                                          cached):
    import logging

    from deepnag.loss import soft_dtw_cpu

    monkeypatch.setattr(soft_dtw_cpu, "kernels_cached", lambda: cached)
    with caplog.at_level(logging.INFO, logger="deepnag"):
        assert main.main([f"--datapath={shared_data}", f"--logdir={tmp_path / 'logs'}", *TINY, "--epochs=1"]) == 0
    messages = [r.getMessage() for r in caplog.records]
    assert any("compiles the soft-DTW kernels" in m for m in messages) is not cached
    assert any(m.startswith("done: 1 epoch in this run (1 of 1 in all)") for m in messages), messages
