"""Mutation score of each mutated module, from the results of `mutmut run` (run by hand: slow, not CI).

    bash benchmarks/mutation.sh core     # runs mutmut in a scratch copy, then this script there
    python -m benchmarks.mutation_scores [--by-function]
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


def _row(name: str, codes: list[int | None], status_by_exit_code: dict) -> str:
    status = Counter(status_by_exit_code[code] for code in codes)
    checked = status["killed"] + status["survived"] + status["timeout"]
    score = f"{status['killed'] / checked:.1%}" if checked else "—"
    return (f"{name:60s} {len(codes):8d} {status['killed']:7d} {status['survived']:9d} {status['timeout']:8d} "
            f"{status['no tests']:9d} {status['not checked']:8d} {score:>7s}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--by-function", action="store_true",
                        help="a row per mutated function that has results (after the modules' rows)")
    parser.add_argument("--survivor-names", action="store_true", help="only the surviving mutants' names, a line each")
    args = parser.parse_args()
    from mutmut.stats import status_by_exit_code  # mutmut is a tool of this script only, not of the project

    metas = sorted((ROOT / "mutants").rglob("*.py.meta"))
    if not metas:
        raise SystemExit("no mutmut results under mutants/: run `mutmut run` in the project root first")
    results = {meta.relative_to(ROOT / "mutants").as_posix().removesuffix(".meta"):
               json.loads(meta.read_text())["exit_code_by_key"] for meta in metas}
    survivors = [name for codes in results.values() for name, code in codes.items()
                 if status_by_exit_code[code] == "survived"]
    if args.survivor_names:
        if survivors:  # nothing at all when none survived, so that the caller's list stays empty
            print("\n".join(survivors))
        return
    header = (f"{'mutants':>8s} {'killed':>7s} {'survived':>9s} {'timeout':>8s} {'no tests':>9s} {'pending':>8s} "
              f"{'score':>7s}")
    print(f"{'module':60s} {header}")
    functions: dict[str, list[int | None]] = {}
    for module, codes in results.items():
        print(_row(module, list(codes.values()), status_by_exit_code))
        for name, code in codes.items():
            functions.setdefault(name.rsplit("__mutmut_", 1)[0], []).append(code)
    if args.by_function:
        print(f"\n{'function':60s} {header}")
        for name, codes in functions.items():
            if any(code is not None for code in codes):  # functions a run restricted to others never started are left out
                print(_row(name, codes, status_by_exit_code))
    if survivors:
        print("\nsurvivors (mutmut show NAME):\n  " + "\n  ".join(survivors))


if __name__ == "__main__":
    main()
