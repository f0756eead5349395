"""`pip install .` into a fresh virtual environment gives a working `deepnag` command and API.

The environment sees the site-packages of the interpreter running the tests (torch
and the other dependencies, whether that interpreter is a virtual environment or
not) through a `.pth` file, and pip runs with `--no-index`: nothing is downloaded.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "pretrained_models" / "DeepNAG" / "dollar-gds" / "generator.pt"

pytestmark = pytest.mark.install


def venv_seeing_these_packages(env_dir: Path) -> Path:
    """A virtual environment at `env_dir` (its python returned) that sees this interpreter's packages.

    No pip of its own: the bundled pip and setuptools are older than what a build needs. This interpreter's
    packages (pip and setuptools included) are seen through a .pth file: `system_site_packages` would show the
    *base* interpreter's instead when the tests run inside a virtual environment.
    """
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    inner = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(inner, "outer-site-packages.pth").write_text("\n".join(sorted(outer)) + "\n")
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtual environment with the package built from a copy of the tree (the checkout stays clean)."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    caches = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build", ".venv", ".pytest_cache", ".hypothesis")

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = {"logs", "data"} if Path(folder) == ROOT else set()  # the project's data/ and logs/, not deepnag/data/
        return set(caches(folder, names)) | (top & set(names))

    shutil.copytree(ROOT, source, ignore=ignore)
    env_dir = base / "env"
    python = venv_seeing_these_packages(env_dir)
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-build-isolation",
                             str(source)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return env_dir / "bin"


def test_the_console_command_shows_its_help(installed, tmp_path):
    out = subprocess.run([str(installed / "deepnag"), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: deepnag ")
    assert "--evaluate CHECKPOINT" in out.stdout and "--gamma" in out.stdout


def test_the_console_command_names_itself_in_errors(installed, tmp_path):
    out = subprocess.run([str(installed / "deepnag"), "--batch-size=0"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].endswith("(see deepnag --help)")


def test_the_installed_command_generates(installed, tmp_path):
    out = subprocess.run([str(installed / "deepnag"), f"--generate={SHIPPED}", "--output=tiny", "--num-per-class=2"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    with np.load(tmp_path / "tiny.npz", allow_pickle=False) as archive:
        assert archive["samples"].shape == (32, 64, 2)


def test_the_installed_api_is_the_installed_package(installed, tmp_path):
    code = ("import deepnag, sys; g = deepnag.load_generator(sys.argv[1]); "
            "print(deepnag.__file__); print(g.sample('star', n=3).shape)")
    out = subprocess.run([str(installed / "python"), "-c", code, str(SHIPPED)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    where, shape = out.stdout.split("\n")[:2]
    assert not where.startswith(str(ROOT)) and "site-packages" in where
    assert shape == "(3, 64, 2)"
