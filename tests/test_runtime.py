"""The OpenMP setting that the entry points apply before torch loads."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def _python(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"} | env
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout.strip()


def test_main_sets_a_short_spin_before_torch_loads():
    out = _python("import os, sys, main; print('torch' in sys.modules, os.environ.get('GOMP_SPINCOUNT'))")
    assert out == "False 10000"


def test_the_console_command_sets_it_before_torch_loads():
    """`deepnag` (the installed command) enters at deepnag.cli.main, not main.py."""
    out = _python("import os, sys; from deepnag import cli; cli.main(['--batch-size=0']); "
                  "print('torch' in sys.modules, os.environ.get('GOMP_SPINCOUNT'))")
    assert out == "False 10000"


def test_the_users_own_setting_is_kept():
    out = _python("import os, main; print(os.environ['GOMP_SPINCOUNT'])", GOMP_SPINCOUNT="123")
    assert out == "123"


def test_too_late_once_torch_is_loaded():
    out = _python("import os, torch; from deepnag.runtime import configure_openmp; "
                  "print(configure_openmp(), os.environ.get('GOMP_SPINCOUNT'))")
    assert out == "False None"


def test_the_python_api_sets_it_before_torch_loads():
    """A user of the API gets the command line's speed: `import deepnag` (or its loss alone) sets the spin first."""
    for entry in ("import deepnag; deepnag.load_generator", "from deepnag.loss import soft_dtw"):
        out = _python(f"import os, sys; {entry}; import torch; print(os.environ.get('GOMP_SPINCOUNT'))")
        assert out == "10000", entry
    out = _python("import os, deepnag; print(os.environ['GOMP_SPINCOUNT'])", GOMP_SPINCOUNT="123")
    assert out == "123"


def test_progress_logs_every_few_seconds_where_no_bar_is_shown(monkeypatch, caplog):
    """Off a terminal (tqdm shows nothing) a long step still says how far it got, at most every `every` seconds."""
    import logging
    import types

    from deepnag import progress

    clock = iter([0.0, 1.0, 2.5, 3.0, 6.0, 7.0, 8.0])
    monkeypatch.setattr(progress, "time", types.SimpleNamespace(monotonic=lambda: next(clock)))
    log = logging.getLogger("deepnag.test")
    with caplog.at_level(logging.INFO, logger="deepnag.test"):
        with progress.Progress(5, "study", "seeds", log, every=2.0) as bar:
            assert bar.log_lines  # pytest's captured output is no terminal
            for _ in range(5):
                bar.update()
    assert [r.getMessage() for r in caplog.records] == ["study: 2 of 5 seeds", "study: 4 of 5 seeds"]
    with progress.Progress(3, "quiet", "steps", log, enabled=False) as bar:  # e.g. a rank other than 0
        assert not bar.log_lines
