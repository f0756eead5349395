"""The --metrics report: its table and metrics.json, from a metrics dictionary."""

from __future__ import annotations

import json

from deepnag.evaluation import report

METRICS = {"tstr_accuracy": 0.9, "yardstick_accuracy": 0.95, "real_synthetic_ed": 1.5, "real_real_ed": 1.25,
           "intra_synthetic_ed": 0.5, "intra_real_ed": 0.75, "real_synthetic_cos": 2.5, "real_real_cos": 2.25,
           "intra_synthetic_cos": 1.0, "intra_real_cos": 1.125}


def test_the_table_puts_each_figure_beside_its_baseline_and_says_which_way_is_better():
    lines = report.table(METRICS).splitlines()
    assert lines[0].split() == ["metric", "synthetic", "baseline", "better", "baseline", "is"]
    rows = {line[:22].strip(): line[22:].split(None, 2) for line in lines[1:]}
    assert rows["recognition (TSTR)"][:2] == ["0.9000", "0.9500"] and "higher" in rows["recognition (TSTR)"][2]
    assert rows["fidelity AHD (cos)"][:2] == ["2.5000", "2.2500"] and "lower" in rows["fidelity AHD (cos)"][2]
    assert rows["diversity (ed)"][:2] == ["0.5000", "0.7500"] and "near baseline" in rows["diversity (ed)"][2]
    assert len(lines) == 6


def test_metrics_json_is_written_whole(tmp_path):
    path = report.write(METRICS, tmp_path / "metrics.json")
    assert json.loads(path.read_text()) == METRICS
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary file left
