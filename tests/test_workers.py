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


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` now (Linux's /proc/<pid>/task/<tid>/children)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    kids = {int(k) for k in children.read().split()}
            except FileNotFoundError:
                continue
            todo += sorted(kids - found)
            found |= kids
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux's")
def test_a_metrics_run_killed_by_sigterm_during_its_study_leaves_no_process(tmp_path, shared_data):
    """A real --metrics=study run, stopped as `timeout` stops it while its study's GRU fits run in worker
    processes: it, its workers and multiprocessing's resource tracker are all gone."""
    logs = tmp_path / "logs"
    env = dict(os.environ, MPLBACKEND="Agg")
    train = [sys.executable, "main.py", f"--datapath={shared_data}", "--classes=arrow,star", "--resample-n=12",
             "--batch-size=16", f"--logdir={logs}", "--use-tensorboard=0", "--epochs=1", "--vis-frequency=0",
             "--subjects=s02,s03"]
    assert subprocess.run(train, cwd=ROOT, env=env, capture_output=True, timeout=300).returncode == 0
    checkpoint = next(logs.glob("*/checkpoints/checkpoint-final.pt"))
    argv = [f"--generate={checkpoint}", f"--output={tmp_path / 'out'}", "--metrics=study", "--recognizer=gru",
            f"--datapath={shared_data}"]
    quick = ("import sys, main; from deepnag.recognition import gru_recognizer; gru_recognizer.STEPS = 20; "
             "sys.exit(main.main(sys.argv[1:]))")  # short GRU fits: the pool lives through the study's seeds anyway
    run = subprocess.Popen([sys.executable, "-c", quick, *argv], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        deadline, started = time.monotonic() + 240, set()
        while time.monotonic() < deadline and len(started) < 3:  # two workers and the resource tracker
            started = _descendants(run.pid)
            time.sleep(0.5)
        assert len(started) >= 3, f"the study's workers did not start ({started})"
        time.sleep(2)  # fits under way
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
        deadline = time.monotonic() + 20
        while any(_alive(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in started if _alive(p)], "processes outlived the --metrics run"
        assert run.returncode != 0  # stopped, not finished
    finally:
        run.kill()
