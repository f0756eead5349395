"""Mutation score of each mutated module, from the results of `mutmut run` (run by hand: slow, not CI).

    mutmut run --max-children 2          # the modules and tests of [tool.mutmut] in pyproject.toml
    python benchmarks/mutation_scores.py
    mutmut show <mutant name>            # what a survivor changed

A mutant is killed when a test fails with it; the score is killed / (killed +
survived + timed out). Mutants no selected test runs ("no tests") are listed apart:
they are code the selected tests never reach, not code they check.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from mutmut.stats import status_by_exit_code  # mutmut is a tool of this script only, not of the project

    metas = sorted((ROOT / "mutants").rglob("*.py.meta"))
    if not metas:
        raise SystemExit("no mutmut results under mutants/: run `mutmut run` in the project root first")
    print(f"{'module':40s} {'mutants':>8s} {'killed':>7s} {'survived':>9s} {'timeout':>8s} {'no tests':>9s} "
          f"{'pending':>8s} {'score':>7s}")
    survivors = []
    for meta in metas:
        module = meta.relative_to(ROOT / "mutants").as_posix().removesuffix(".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        status = Counter(status_by_exit_code[code] for code in codes.values())
        survivors += [name for name, code in codes.items() if status_by_exit_code[code] == "survived"]
        checked = status["killed"] + status["survived"] + status["timeout"]
        score = f"{status['killed'] / checked:.1%}" if checked else "—"
        print(f"{module:40s} {len(codes):8d} {status['killed']:7d} {status['survived']:9d} {status['timeout']:8d} "
              f"{status['no tests']:9d} {status['not checked']:8d} {score:>7s}")
    if survivors:
        print("\nsurvivors (mutmut show NAME):\n  " + "\n  ".join(survivors))


if __name__ == "__main__":
    main()
