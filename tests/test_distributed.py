"""Multi-process training launched with torchrun (gloo on the CPU)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import main
from tests.conftest import ROOT, tiny

TINY = tiny("--max-per-class=8")


def _torchrun(processes: int, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "main.py", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.parametrize("model", ["DeepNAG", "DeepGAN"])
def test_two_processes_agree_and_report_the_global_loss(tmp_path, shared_data, model):
    logdir = tmp_path / "logs"
    _torchrun(2, f"--model={model}", f"--datapath={shared_data}", f"--logdir={logdir}", *TINY, "--epochs=3",
              "--deepgan-critic-iters=2")
    runs = list(logdir.iterdir())
    assert len(runs) == 1  # rank 0 alone writes
    assert sorted(p.name for p in (runs[0] / "checkpoints").iterdir()) == ["checkpoint-best.pt", "checkpoint-final.pt"]
    log = (runs[0] / "logs" / "train.log").read_text()
    assert "parameters identical on all 2 ranks" in log and "2 processes (batch 4 per process)" in log
    key = "loss" if model == "DeepNAG" else "neg_loss_d"
    epochs = re.findall(rf"epoch \d+/3 .*?  {key} (-?[\d.]+).*ranks' {key}: (-?[\d.]+), (-?[\d.]+)\)", log)
    assert len(epochs) == 3
    for total, first, second in epochs:
        assert abs(float(total) - (float(first) + float(second)) / 2) <= 1e-4 + 1e-4 * abs(float(total))
    assert any(first != second for _, first, second in epochs)  # ranks saw different shards / noise


def test_one_process_equals_a_plain_run(tmp_path, shared_data):
    _torchrun(1, f"--datapath={shared_data}", f"--logdir={tmp_path / 'torchrun'}", *TINY, "--epochs=2", "--num-threads=1")
    assert main.main([f"--datapath={shared_data}", f"--logdir={tmp_path / 'plain'}", *TINY, "--epochs=2", "--num-threads=1"]) == 0

    def final(folder: Path) -> dict:
        (run,) = list(folder.iterdir())
        return torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)["generator"]

    a, b = final(tmp_path / "torchrun"), final(tmp_path / "plain")
    assert max((a[k] - b[k]).abs().max().item() for k in a) <= 1e-6


def _children(pid: int) -> list[int]:
    """The processes `pid` started (torchrun's workers), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    return found


def _final_generator(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)["generator"]


def test_a_killed_worker_costs_an_epoch_not_the_run(tmp_path, shared_data):
    """torchrun --max-restarts: one worker SIGKILLed mid-run; the restarted group resumes the same run from its last
    epoch's checkpoint, ends with status 0, and its final model equals an uninterrupted run's."""
    import os
    import signal
    import time

    flags = [f"--datapath={shared_data}", *TINY, "--epochs=40", "--num-threads=1", "--use-tensorboard=0"]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "--max-restarts=2",
               "main.py", f"--logdir={tmp_path / 'killed'}", *flags]
    job = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        log = None
        while time.monotonic() < deadline:
            logs = list((tmp_path / "killed").glob("*/logs/train.log"))
            log = logs[0] if logs else None
            if log is not None and re.search(r"epoch [12]\d/40", log.read_text()):
                break
            time.sleep(0.2)
        assert log is not None, "the job never started training"
        workers = _children(job.pid)
        assert len(workers) == 2
        os.kill(workers[1], signal.SIGKILL)
        output, _ = job.communicate(timeout=300)
    finally:
        job.kill()
    assert job.returncode == 0, output[-3000:]
    (run,) = [p for p in (tmp_path / "killed").iterdir() if p.is_dir()]
    text = (run / "logs" / "train.log").read_text()
    resumed = re.search(r"restart 1: resuming from epoch (\d+) \((.+checkpoint-last\.pt)\)", text)
    assert resumed and 10 <= int(resumed.group(1)) < 40, text[-2000:]
    assert "done: " in text and "(40 of 40 in all)" in text
    final = torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    assert final["epoch"] == 40

    _torchrun(2, f"--logdir={tmp_path / 'whole'}", *flags)
    (whole,) = list((tmp_path / "whole").iterdir())
    a, b = _final_generator(run), _final_generator(whole)
    assert max((a[k] - b[k]).abs().max().item() for k in a) <= 1e-6


def test_a_restart_falls_back_past_a_damaged_newest_checkpoint(tmp_path, shared_data, caplog):
    import logging
    import os

    from deepnag.train import run_dir

    assert main.main([f"--datapath={shared_data}", f"--logdir={tmp_path}", *TINY, "--epochs=2",
                      "--checkpoint-frequency=1"]) == 0
    (run,) = list(tmp_path.iterdir())
    checkpoints = run / "checkpoints"
    (checkpoints / "checkpoint-last.pt").write_bytes((checkpoints / "checkpoint-final.pt").read_bytes()[:5000])
    os.utime(checkpoints / "checkpoint-final.pt", (1, 1))  # so that the damaged file is the newest, epoch 2 before it
    with caplog.at_level(logging.WARNING, logger="deepnag"):
        found = run_dir.newest_complete_checkpoint(run)
    newest_good = max((p for p in checkpoints.glob("*.pt") if p.name not in ("checkpoint-last.pt", "checkpoint-final.pt")),
                      key=lambda p: p.stat().st_mtime_ns)
    assert found == newest_good
    (warning,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("restart:")]
    assert warning.startswith(f"restart: falling back past a damaged checkpoint: {checkpoints / 'checkpoint-last.pt'} is")
    assert "\n" not in warning
