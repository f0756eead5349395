"""What `--metrics` costs: wall time and peak memory (the whole process tree) of `--evaluate --metrics` and of
`--evaluate --metrics=study` on shipped checkpoints.

The goal (#55): the bare `--metrics` within 2 minutes and 2 GB on 2 cores; the study behind `--metrics=study`, its
ETA logged as it starts. Memory is the resident set of the command and every process it started, summed, sampled
every 0.2 s (psutil, the `bench` extra). Runs interleave the modes (fast, study, fast, study, …) on the shared machine.

    python -m benchmarks.metrics_cost --datapath=../shared/data --out=benchmarks/results/metrics_cost/cost.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ("pretrained_models/DeepNAG/dollar-gds-2-writers/generator.pt",)
MODES = {"fast": "--metrics", "study": "--metrics=study"}
SAMPLE_S = 0.2


def tree_rss(process: Any) -> int:
    """Bytes resident in `process` (a psutil.Process) and all its descendants now (those that vanish count 0)."""
    import psutil

    total = 0
    for p in (process, *process.children(recursive=True)):
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(checkpoint: str, mode: str, datapath: str, out: Path) -> dict:
    """One `--evaluate=checkpoint --metrics[=study]` run: seconds, peak tree memory, its ETA line and exit code."""
    import psutil  # the bench extra (requirements-bench.txt)

    command = [sys.executable, "main.py", f"--evaluate={checkpoint}", MODES[mode], f"--datapath={datapath}",
               f"--output={out}"]
    started, peak = time.perf_counter(), 0
    with tempfile.TemporaryFile("w+") as log:
        child = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
        watched = psutil.Process(child.pid)
        while child.poll() is None:
            peak = max(peak, tree_rss(watched))
            time.sleep(SAMPLE_S)
        seconds = time.perf_counter() - started
        log.seek(0)
        text = log.read()
    eta = next((line for line in text.splitlines() if "ETA about" in line), None)
    if child.returncode:
        print(text[-3000:], file=sys.stderr)
    return {"checkpoint": checkpoint, "mode": mode, "command": " ".join(command[1:]), "seconds": round(seconds, 1),
            "peak_gb": round(peak / 2**30, 3), "eta_line": eta, "returncode": child.returncode}


def main(argv: list[str] | None = None) -> int:
    """Measure every checkpoint in every mode, `--repeats` times interleaved; print a table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", nargs="+", default=list(CHECKPOINTS))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--datapath", default="data")
    parser.add_argument("--out", type=Path, default=None, help="JSON file of every run")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            for checkpoint in args.checkpoints:
                for mode in args.modes:
                    run = measure(checkpoint, mode, args.datapath, Path(scratch) / f"{mode}-{repeat}")
                    runs.append(run)
                    print(f"{Path(checkpoint).parent.name:<32}{mode:<8}{run['seconds']:>9.1f} s{run['peak_gb']:>8.2f} GB"
                          f"  exit {run['returncode']}", flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        host = {"machine": platform.machine(), "processor": platform.processor(), "cores": os.cpu_count(),
                "python": platform.python_version()}
        args.out.write_text(json.dumps({"host": host, "date": time.strftime("%Y-%m-%d"), "runs": runs}, indent=2) + "\n")
    return 1 if any(run["returncode"] for run in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
