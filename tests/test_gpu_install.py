"""The README's GPU install, resolved from the package index into a fresh virtual environment, on a machine
without a GPU: the versions it picks, and the soft-DTW kernels compiled to PTX with them.

This is the check that would have caught numba-cuda 0.30.4 with NumPy 2.5 (no `np.row_stack`): it compiles
the real kernels with the real compilers of the `cu12` wheels. Needs the package index (as the install does).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_install import venv_seeing_these_packages
from tests.test_soft_dtw_device import ROOT, run_planted

pytestmark = pytest.mark.install


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pip", *args], cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_the_gpu_requirements_resolve_to_a_numpy_numba_cuda_can_compile_with(tmp_path):
    """A fresh resolution of everything (`--ignore-installed`), as a new GPU machine would make it."""
    report = tmp_path / "report.json"
    done = _pip(Path(sys.executable), "install", "--quiet", "--dry-run", "--ignore-installed", "--report", str(report),
                "-r", "requirements.txt", "-r", "requirements-cuda.txt", "torch==2.13.0")
    assert done.returncode == 0, done.stderr[-3000:]
    chosen = {item["metadata"]["name"].lower(): item["metadata"]["version"] for item in json.loads(report.read_text())["install"]}
    numpy_version = tuple(int(part) for part in chosen["numpy"].split(".")[:2])
    assert numpy_version < (2, 5), chosen["numpy"]
    assert {"numba", "numba-cuda", "nvidia-cuda-nvrtc-cu12", "nvidia-cuda-nvcc-cu12"} <= set(chosen), sorted(chosen)


@pytest.fixture(scope="module")
def gpu_env(tmp_path_factory) -> Path:
    """A virtual environment with requirements-cuda.txt installed from the index; this interpreter's packages
    (torch, NumPy, Numba) seen through a .pth file, so that only the GPU additions are downloaded."""
    python = venv_seeing_these_packages(tmp_path_factory.mktemp("gpu") / "env")
    done = _pip(python, "install", "--quiet", "-r", "requirements-cuda.txt")
    assert done.returncode == 0, done.stderr[-3000:]
    return python


def test_the_kernels_compile_to_ptx_with_the_gpu_install(gpu_env):
    done = run_planted(str(gpu_env), plant=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "numba" and done.stderr.strip() == ""


def test_with_numpy_2_5s_missing_row_stack_the_gpu_install_falls_back_with_one_warning(gpu_env):
    done = run_planted(str(gpu_env), plant=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "wavefront"
    warning = done.stderr.strip().splitlines()
    assert len(warning) == 1 and "AttributeError: " in warning[0] and "'row_stack'" in warning[0], done.stderr
