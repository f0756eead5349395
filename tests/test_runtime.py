"""The OpenMP setting that the entry points apply before torch loads, and how the program's process ends."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def _python(code: str, check: bool = True, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"} | env
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120, check=check)
    return done.stdout.strip()


def test_main_sets_a_short_spin_before_torch_loads():
    out = _python("import os, sys, main; print('torch' in sys.modules, os.environ.get('GOMP_SPINCOUNT'))")
    assert out == "False 10000"


def test_the_console_command_sets_it_before_torch_loads():
    """`deepnag` (the installed command) enters at deepnag.cli.run, not main.py."""
    out = _python("import atexit, os, sys; atexit.register(lambda: print('torch' in sys.modules, "
                  "os.environ.get('GOMP_SPINCOUNT'))); sys.argv = ['deepnag', '--batch-size=0']; "
                  "from deepnag import cli; cli.run()", check=False)
    assert out == "False 10000"


def test_end_process_exits_at_once_with_its_status_and_everything_written(tmp_path):
    """No wait for what the interpreter's exit would run (a live thread, atexit handlers), where a torchrun worker
    could abort; the status, the printed and the logged lines all arrive."""
    code = ("import atexit, logging, threading, time; from deepnag.runtime import end_process; "
            f"logging.basicConfig(filename={str(tmp_path / 'log')!r}, level=logging.INFO); "
            "threading.Thread(target=time.sleep, args=(600,)).start(); atexit.register(print, 'atexit ran'); "
            "logging.info('logged'); print('printed'); end_process(3)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (3, "printed\n")
    assert (tmp_path / "log").read_text() == "INFO:root:logged\n"


def test_only_a_torchrun_worker_skips_the_interpreters_exit():
    code = "import atexit, sys; atexit.register(print, 'atexit ran'); sys.argv = ['main.py', '--batch-size=0']; " \
           "from deepnag import cli; cli.run()"
    worker = {"RANK": "0", "WORLD_SIZE": "1"}
    plain = {k: v for k, v in os.environ.items() if k not in worker}
    for env, expected in ((plain, "atexit ran\n"), (plain | worker, "")):
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert (done.returncode, done.stdout) == (2, expected)
        assert "--batch-size" in done.stderr


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
