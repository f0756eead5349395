"""HYPE∞ and its intervals (deepnag.realism.results) against a brute-force computation, and the files written."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from deepnag.realism import results


def _answers(seed: int, participants: int = 7, per_arm: int = 6, arms: int = 2, classes: int = 3) -> list[dict]:
    """Random scored answers, half real half generated per arm, and a few practice ones."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(participants):
        trial = 0
        for arm in range(arms):
            for truth in ["real"] * per_arm + ["generated"] * per_arm:
                answer = ("real", "generated")[int(rng.integers(2))]
                rows.append({"session": f"s{p}", "trial": trial, "practice": int(trial < 2), "arm": arm,
                             "truth": truth, "class": int(rng.integers(classes)), "answer": answer,
                             "correct": int(answer == truth), "ms": int(rng.integers(100, 5000)), "created": 1.0})
                trial += 1
    return rows


def _brute_rate(rows: list[dict], seed_rng: np.random.Generator) -> tuple[float, list[float]]:
    """Error rate by counting, and the bootstrap interval by resampling participants one draw at a time."""
    sessions = sorted({r["session"] for r in rows})
    wrong = {s: 0 for s in sessions}
    total = {s: 0 for s in sessions}
    for r in rows:
        total[r["session"]] += 1
        wrong[r["session"]] += r["answer"] != r["truth"]
    rates = []
    for _ in range(results.BOOTSTRAP):
        picked = [sessions[i] for i in seed_rng.integers(0, len(sessions), size=len(sessions))]
        rates.append(sum(wrong[s] for s in picked) / sum(total[s] for s in picked))
    return sum(wrong.values()) / sum(total.values()), list(np.percentile(rates, [2.5, 97.5]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hype_and_its_interval_are_the_brute_force_ones(seed):
    answers = _answers(seed)
    summary = results.summary(answers, ["A", "B"], ["x", "y", "z"], seed=seed)
    rng = np.random.default_rng(seed)  # the same stream, consumed in the same order as summary's
    scored = [a for a in answers if not a["practice"]]
    for arm, name in enumerate(["A", "B"]):
        mine = [a for a in scored if a["arm"] == arm]
        got = summary["generators"][name]
        for key, rows in (("hype_infinity", mine), ("real_error", [a for a in mine if a["truth"] == "real"]),
                          ("generated_error", [a for a in mine if a["truth"] == "generated"])):
            rate, interval = _brute_rate(rows, rng)
            assert got[key]["error"] == pytest.approx(rate) and got[key]["ci95"] == pytest.approx(interval), key
            assert got[key]["answers"] == len(rows) and got[key]["participants"] == 7
        for c, cls in enumerate(["x", "y", "z"]):
            rows = [a for a in mine if a["truth"] == "generated" and a["class"] == c]
            rate, interval = _brute_rate(rows, rng)
            assert got["generated_error_per_class"][cls]["error"] == pytest.approx(rate)
            assert got["generated_error_per_class"][cls]["ci95"] == pytest.approx(interval)
    assert summary["participants"] == 7 and summary["practice_answers"] == sum(a["practice"] for a in answers)


def test_hype_is_the_error_over_real_and_generated_together():
    rows = [{"session": "p", "trial": i, "practice": 0, "arm": 0, "truth": t, "class": 0, "answer": a,
             "correct": int(t == a), "ms": None, "created": 0.0}
            for i, (t, a) in enumerate([("real", "real"), ("real", "generated"), ("generated", "real"),
                                        ("generated", "real")])]
    got = results.summary(rows, ["G"], ["c"])["generators"]["G"]
    assert got["hype_infinity"]["error"] == 0.75 and got["generated_error"]["error"] == 1.0
    assert got["real_error"]["error"] == 0.5 and got["hype_infinity"]["ci95"] == [0.75, 0.75]  # one participant


def test_no_answers_give_no_rates_and_still_a_figure(tmp_path):
    paths = results.write(tmp_path, [], ["A"], ["c"])
    summary = json.loads(paths["summary.json"].read_text())
    assert summary["generators"]["A"]["hype_infinity"] == {"error": None, "ci95": None, "answers": 0,
                                                           "participants": 0}
    assert paths["summary.png"].read_bytes().startswith(b"\x89PNG")
    assert paths["answers.csv"].read_text().strip() == ",".join(results.CSV_COLUMNS)


def test_the_files_hold_every_answer(tmp_path):
    answers = _answers(5)
    paths = results.write(tmp_path, answers, ["A", "B"], ["x", "y", "z"])
    rows = list(csv.DictReader(io.StringIO(paths["answers.csv"].read_text())))
    assert len(rows) == len(answers)
    assert [(r["session"], int(r["trial"]), r["generator"], r["answer"]) for r in rows] == \
        [(a["session"], a["trial"], "AB"[a["arm"]], a["answer"]) for a in answers]
    from PIL import Image

    image = np.asarray(Image.open(paths["summary.png"]).convert("L"))
    assert (image < 200).mean() > 0.02  # bars, axes and text drawn
