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
