"""The benchmark scripts: each answers --help, and the augmentation protocol's folds and summary."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPTS = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py") if p.name != "reference_loss.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_answers_help(script):
    done = subprocess.run([sys.executable, f"benchmarks/{script}", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:")


def _augmentation():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import augmentation
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return augmentation


def test_folds_are_disjoint_slices_of_one_seeded_permutation():
    bench = _augmentation()
    subjects = [f"s{i:02d}" for i in range(2, 12)] * 3
    folds = [bench.fold_subjects(subjects, 2, f) for f in range(5)]
    assert all(len(f) == 2 for f in folds) and len({s for f in folds for s in f}) == 10  # 5 × 2 disjoint: all ten
    assert bench.fold_subjects(subjects, 2, 0) == folds[0]  # seeded
    assert len(bench.fold_subjects(subjects, 5, 2)) == 5  # wraps around past the end


def test_the_summary_averages_folds_and_pairs_generator_with_gpsr():
    bench = _augmentation()

    def fold(real, gpsr, generator):
        rows = [{"added": kind, "per_class": 8, "error": {"mean": e},
                 "reduction": {"mean": (real - e) / real}} for kind, e in (("gpsr", gpsr), ("generator", generator))]
        return {"dataset": "dollar-gds", "writers": 2, "epochs": 100, "budget": "5m",
                "study": {"recognizer": "Protractor", "real_error": real, "rows": rows, "tstr_heldout_accuracy": 0.5}}

    text = bench.summary([fold(0.2, 0.1, 0.3), fold(0.4, 0.2, 0.4)])
    assert "**dollar-gds, 2 training writer(s)**: 2 folds, Protractor" in text
    assert "| 8 | real + GPSR | 0.150 | -50.0% ± 0.0 |" in text
    assert "| 8 | real + generator | 0.350 | +25.0% ± 35.4 |" in text
    assert "| 8 | generator − GPSR (paired) | +0.200 ± 0.000 | |" in text
