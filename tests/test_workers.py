"""Pools started by the project never leave workers behind: not on SIGKILL of the parent, not on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import ROOT

CHILD = textwrap.dedent("""
    import os, time
    from deepnag import workers

    with workers.pool(2) as executor, workers.terminate_on_sigterm(executor):
        [job.result() for job in [executor.submit(os.getpid) for _ in range(8)]]  # both workers started
        pids = sorted(p.pid for p in executor._processes.values())
        print(" ".join(map(str, pids)), flush=True)
        time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux's")
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_parent_leaves_no_worker_behind(signum):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    parent = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(p) for p in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
        parent.send_signal(signum)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 20
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in workers), f"workers {workers} outlived their parent ({signum.name})"
        if signum == signal.SIGTERM:
            assert parent.returncode == 143  # through the clean-up, as SystemExit(128 + 15)
    finally:
        parent.kill()
