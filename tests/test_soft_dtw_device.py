"""The choice of soft-DTW kernel for a GPU, exercised on the CPU: Numba's kernels, the wavefront, or a one-line error."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from deepnag.errors import UserError
from deepnag.loss import soft_dtw_device
from deepnag.loss.soft_dtw_wavefront import soft_dtw_wavefront

ROOT = Path(__file__).resolve().parent.parent
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def fresh_choice():
    soft_dtw_device.kernel_for.cache_clear()
    yield
    soft_dtw_device.kernel_for.cache_clear()


def _row_stack_missing(*args):
    raise AttributeError("module 'numpy' has no attribute 'row_stack'")


def test_a_working_kernel_is_kept(monkeypatch):
    monkeypatch.setattr(soft_dtw_device, "_numba_kernel", soft_dtw_wavefront)
    assert soft_dtw_device.why_not(soft_dtw_wavefront, CPU) is None
    assert soft_dtw_device.kernel_for(CPU) is soft_dtw_wavefront


def test_a_kernel_that_fails_to_compile_gives_way_to_the_wavefront_with_one_warning(monkeypatch, caplog):
    monkeypatch.setattr(soft_dtw_device, "_numba_kernel", _row_stack_missing)
    with caplog.at_level(logging.WARNING, logger="deepnag.loss.soft_dtw_device"):
        first, second = soft_dtw_device.kernel_for(CPU), soft_dtw_device.kernel_for(CPU)
    assert first is second is soft_dtw_wavefront
    assert [r.getMessage() for r in caplog.records] == [
        "the Numba CUDA soft-DTW kernels do not run on cpu (AttributeError: module 'numpy' has no attribute "
        "'row_stack'); using the torch wavefront kernel, which is slower; for the fast kernels: "
        "pip install -r requirements.txt -r requirements-cuda.txt"]


def test_a_kernel_with_wrong_values_is_not_used(monkeypatch):
    def off_by_one(cost, lo, hi, gamma, want_grad):
        val, E = soft_dtw_wavefront(cost, lo, hi, gamma, want_grad)
        return val + 1, E

    assert soft_dtw_device.why_not(off_by_one, CPU).startswith("values [")
    monkeypatch.setattr(soft_dtw_device, "_numba_kernel", off_by_one)
    assert soft_dtw_device.kernel_for(CPU) is soft_dtw_wavefront


def test_when_no_kernel_runs_the_error_is_one_line(monkeypatch):
    def broken_cuda(*args):
        raise RuntimeError("CUDA error: no kernel image is available\nmore lines")

    original = soft_dtw_device.why_not
    monkeypatch.setattr(soft_dtw_device, "_numba_kernel", _row_stack_missing)
    monkeypatch.setattr(soft_dtw_device, "why_not", lambda kernel, device: original(
        broken_cuda if kernel is soft_dtw_wavefront else kernel, device))
    with pytest.raises(UserError) as caught:
        soft_dtw_device.kernel_for(CPU)
    assert str(caught.value) == (
        "soft-DTW does not run on cpu: PyTorch's CUDA fails on a 2×3×3 problem (RuntimeError: CUDA error: no kernel "
        "image is available); check the CUDA install with: python -c \"import torch; print(torch.ones(1, "
        "device='cuda'))\"")


def test_the_cpu_needs_no_check(monkeypatch):
    monkeypatch.setattr(soft_dtw_device, "kernel_for", lambda device: pytest.fail("checked a CPU device"))
    soft_dtw_device.check(CPU)


PLANTED = textwrap.dedent("""
    import logging, sys
    import numpy as np
    if sys.argv[1] == "plant":
        del np.row_stack  # as NumPy 2.5 removed it
    import torch
    from deepnag.loss import soft_dtw_cuda, soft_dtw_device
    from deepnag.loss.soft_dtw_wavefront import soft_dtw_wavefront

    def compile_then_run(*args):  # the real compilation (no GPU needed), then a launch stood in for by the wavefront
        soft_dtw_cuda.compile_ptx((8, 0))
        return soft_dtw_wavefront(*args)

    soft_dtw_device._numba_kernel = compile_then_run
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    chosen = soft_dtw_device.kernel_for(torch.device("cpu"))
    print("numba" if chosen is compile_then_run else "wavefront")
""")


def run_planted(python: str, plant: bool) -> subprocess.CompletedProcess:
    """PLANTED in a fresh interpreter (Numba's lazy imports happen once per process), from the checkout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([python, "-c", PLANTED, "plant" if plant else "keep"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_numpy_without_row_stack_is_one_warning_naming_the_install():
    """The GPU run's failure, planted: Numba's CUDA target reaches np.row_stack while it compiles the kernels."""
    done = run_planted(sys.executable, plant=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "wavefront"
    warning = done.stderr.strip().splitlines()
    assert len(warning) == 1 and "AttributeError: " in warning[0] and "'row_stack'" in warning[0], done.stderr
    assert warning[0].endswith("for the fast kernels: pip install -r requirements.txt -r requirements-cuda.txt")
