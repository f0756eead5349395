"""The package's walls (import-linter contracts in pyproject.toml) hold, and a planted wrong import breaks them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint(tree: Path) -> subprocess.CompletedProcess:
    lint_imports = shutil.which("lint-imports")
    assert lint_imports, "import-linter is not installed: pip install -r requirements-dev.txt"
    return subprocess.run([lint_imports, "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=300)


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copytree(ROOT / "deepnag", tree / "deepnag", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree)
    return tree


def test_the_contracts_hold(tmp_path):
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module, planted, expected", [
    ("data/base.py", "import deepnag.loss.costs", "deepnag.data.base -> deepnag.loss.costs"),
    ("loss/costs.py", "import deepnag.train.loop", "deepnag.loss.costs -> deepnag.train.loop"),
    ("config.py", "import deepnag.models", "deepnag.config -> deepnag.models"),
])
def test_a_wrong_import_fails_naming_it(tmp_path, module, planted, expected):
    tree = _copy(tmp_path)
    path = tree / "deepnag" / module
    path.write_text(path.read_text() + f"\n{planted}  # planted\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert expected in result.stdout, result.stdout[-2000:]
