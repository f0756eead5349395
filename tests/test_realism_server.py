"""The realism study's HTTP API through Flask's test client: each bad request's status and one-line reason with
nothing stored, practice feedback, the token-protected results; the command line and the study's folder."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from deepnag.cli import parse_args
from deepnag.errors import UserError
from deepnag.realism import study, trials
from tests.conftest import ROOT
from tests.realism_fakes import TOKEN, fake_client

PEN_MODEL = ROOT / "pretrained_models" / "DeepNAG" / "dollar-gds-2-writers" / "generator.pt"
KINECT_MODEL = ROOT / "pretrained_models" / "DeepNAG" / "jk2017-kinect" / "generator.pt"


def _refused(client, method: str, url: str, status: int, reason: str, **body) -> None:
    stored = client.application.config["STUDY"].store.answers()
    response = client.open(url, method=method, **body)
    assert (response.status_code, response.get_json()) == (status, {"error": reason}), url
    assert client.application.config["STUDY"].store.answers() == stored


def test_each_bad_request_is_a_4xx_with_its_reason_and_stores_nothing(tmp_path):
    client, _ = fake_client(tmp_path)
    session = client.post("/api/sessions").get_json()["session"]
    answers = f"/api/sessions/{session}/answers"
    _refused(client, "POST", "/api/sessions/nobody/answers", 404, "unknown session", json={"trial": 0, "answer": "real"})
    _refused(client, "GET", "/api/sessions/nobody", 404, "unknown session")
    _refused(client, "GET", "/api/sessions/nobody/trials/0", 404, "unknown session")
    _refused(client, "GET", f"/api/sessions/{session}/trials/10", 404,
             "trial 10 is out of range: this session has trials 0 to 9")
    _refused(client, "GET", f"/api/sessions/{session}/trials/x", 404, "trial 'x' is not a trial number")
    _refused(client, "POST", answers, 400, "the body is not valid JSON", data="{trial: 0")
    _refused(client, "POST", answers, 400, "the body must be a JSON object", data="[1, 2]")
    _refused(client, "POST", answers, 400, "the body must be a JSON object", data="")
    _refused(client, "POST", answers, 400, "'answer' must be one of real, generated", json={"trial": 0, "answer": 1})
    _refused(client, "POST", answers, 404, "trial 99 is out of range: this session has trials 0 to 9",
             json={"trial": 99, "answer": "real"})
    _refused(client, "POST", answers, 409, "trial 1 is not the next one: trial 0 is", json={"trial": 1, "answer": "real"})
    _refused(client, "POST", answers, 413, "the body is over 4096 bytes", data="x" * 10_000)
    _refused(client, "GET", answers, 405, f"method not allowed: GET {answers}")
    _refused(client, "GET", "/nothing", 404, "not found: GET /nothing")
    assert client.post(answers, json={"trial": 0, "answer": "real"}).status_code == 201
    _refused(client, "POST", answers, 409, "trial 0 is already answered", json={"trial": 0, "answer": "generated"})
    for path in ("/results", "/results/answers.csv", "/results/summary.json", "/results/summary.png"):
        for query in ("", "?token=wrong"):
            _refused(client, "GET", path + query, 403,
                     "the results need the token printed when the study started (?token=...)")


def test_a_participant_takes_the_study_and_the_results_count_every_answer(tmp_path):
    client, fake = fake_client(tmp_path)
    start = client.post("/api/sessions").get_json()
    assert (start["total"], start["practice"], start["next"]) == (10, 2, 0)
    plan = fake.store.plan(start["session"])
    for i, trial in enumerate(plan):
        shown = client.get(f"/api/sessions/{start['session']}/trials/{i}").get_json()
        assert shown["practice"] == trial["practice"] and "truth" not in json.dumps(shown)  # never says which
        reply = client.post(f"/api/sessions/{start['session']}/answers", json={"trial": i, "answer": "real", "ms": 10})
        assert reply.status_code == 201 and reply.get_json()["next"] == i + 1
        assert ("feedback" in reply.get_json()) == trial["practice"]
        if trial["practice"]:
            assert reply.get_json()["feedback"] == {"truth": trial["truth"], "correct": trial["truth"] == "real"}
    assert client.get(f"/api/sessions/{start['session']}").get_json()["done"]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/results/answers.csv?token={TOKEN}").get_data(as_text=True))))
    assert len(rows) == 10 and {r["answer"] for r in rows} == {"real"}
    summary = client.get(f"/results/summary.json?token={TOKEN}").get_json()
    for arm, name in enumerate(fake.pool.arms):
        assert summary["generators"][name]["hype_infinity"]["error"] == 0.5  # "real" to all: half wrong
        assert summary["generators"][name]["generated_error"]["error"] == 1.0
    page = client.get(f"/results?token={TOKEN}")
    assert page.status_code == 200 and "HYPE∞" in page.get_data(as_text=True)
    assert {p.name for p in tmp_path.iterdir()} >= {"answers.csv", "summary.json", "summary.png"}
    assert client.get(f"/results/summary.png?token={TOKEN}").data.startswith(b"\x89PNG")
    assert client.get("/").status_code == 200 and client.get("/static/study.js").status_code == 200


def test_the_page_is_package_data():
    from fnmatch import fnmatch

    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    static = ROOT / "deepnag" / "realism" / "static"
    assert {p.name for p in static.iterdir()} >= {"index.html", "study.js", "study.css"}
    assert all(any(fnmatch(str(p.relative_to(static.parent)), g) for g in patterns["deepnag.realism"])
               for p in static.iterdir())


def test_the_command_line_asks_for_a_study_and_refuses_what_it_does_not_take():
    config, explicit = parse_args(["--realism-study=a.pt,b.pt", "--trials=8", "--practice-trials=0", "--port=0"])
    assert config.realism_study == ("a.pt", "b.pt") and config.host == "127.0.0.1"
    with pytest.raises(UserError, match="^--epochs applies to .* only, not to --realism-study$"):
        parse_args(["--realism-study=a.pt", "--epochs=3"])
    with pytest.raises(UserError, match="^--trials applies to --realism-study only, not to --evaluate$"):
        parse_args(["--evaluate=a.pt", "--trials=8"])
    with pytest.raises(UserError, match="^argument --port: --port must be 0 or more, got -1"):
        parse_args(["--realism-study=a.pt", "--port=-1"])


def test_a_study_of_checkpoints_of_two_data_sets_is_refused(shared_data, tmp_path):
    with pytest.raises(UserError, match="is a jk2017-kinect model of other classes than .*: a realism study compares "
                                        "generators of one data set$"):
        trials.build_pool([str(PEN_MODEL), str(KINECT_MODEL)], str(shared_data), 0)


def test_the_shipped_models_make_a_study_that_reopens_where_it_was(shared_data, tmp_path):
    argv = [f"--realism-study={PEN_MODEL}", f"--datapath={shared_data}", f"--study-dir={tmp_path}", "--trials=4"]
    config, explicit = parse_args(argv)
    opened = study.open_study(config, explicit)
    pool = opened.pool
    assert pool.kind == "pen" and len(pool.class_names) == 16 and pool.arms == ("DeepNAG dollar-gds-2-writers",)
    real, generated = pool.real[0], pool.generated[0]
    assert real[0].shape[1:] == generated[0].shape[1:] == (64, 2)
    assert np.bincount(real[1]).min() >= 1 and np.bincount(generated[1]).tolist() == [trials.PER_CLASS] * 16
    session = opened.store.new_session(opened.new_plan())
    opened.store.answer(session, {"trial": 0, "answer": "real"})
    token = opened.token
    opened.store.close()
    again = study.open_study(config, explicit)  # a restart: the same samples, token, session and answer
    assert again.token == token and again.store.next_trial(session) == 1 and len(again.store.answers()) == 1
    assert np.array_equal(again.pool.real[0][0], real[0])
    again.store.close()
    other, _ = parse_args([*argv[1:], f"--realism-study={KINECT_MODEL}"])
    with pytest.raises(UserError, match=f"^{tmp_path} holds a study of .*: choose another --study-dir$"):
        study.open_study(other, explicit)


def test_real_samples_come_from_writers_the_generator_did_not_train_on(shared_data, monkeypatch):
    seen = []
    original = trials.GestureData.from_raw
    monkeypatch.setattr(trials.GestureData, "from_raw",
                        classmethod(lambda cls, raw, *a, **k: seen.append(raw.subjects) or original(raw, *a, **k)))
    trials.build_pool([str(PEN_MODEL)], str(shared_data), 0)
    assert seen and not set(seen[0]) & {"s06", "s08"} and len(set(seen[0])) == 8  # trained on s06, s08 only


def test_one_command_serves_the_study_prints_its_links_and_writes_the_results_when_stopped(shared_data, tmp_path):
    import os
    import re
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    command = [sys.executable, str(ROOT / "main.py"), f"--realism-study={PEN_MODEL}", f"--datapath={shared_data}",
               f"--study-dir={tmp_path}", "--port=0", "--trials=2", "--practice-trials=0"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = []
    try:
        deadline = time.monotonic() + 60
        while not any("results:" in line for line in lines) and time.monotonic() < deadline:
            lines.append(process.stderr.readline())
        participants = re.search(r"participants: (http://127\.0\.0\.1:\d+/)$", "".join(lines), re.M).group(1)
        results = re.search(r"results: +(http://\S+/results\?token=\S+)$", "".join(lines), re.M).group(1)
        request = urllib.request.Request(f"{participants}api/sessions", data=b"", method="POST")
        session = json.load(urllib.request.urlopen(request, timeout=10))["session"]
        answer = urllib.request.Request(f"{participants}api/sessions/{session}/answers", method="POST",
                                        data=json.dumps({"trial": 0, "answer": "real"}).encode())
        assert urllib.request.urlopen(answer, timeout=10).status == 201
        assert "HYPE∞" in urllib.request.urlopen(results, timeout=10).read().decode()
    finally:
        process.send_signal(signal.SIGTERM)  # stops as Ctrl-C does: the results written
        rest = process.communicate(timeout=30)[1]
    assert process.returncode == 0, rest
    assert "wrote" in rest and (tmp_path / "summary.json").is_file()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "answers.csv").read_text())))
    assert [(r["session"], r["trial"], r["answer"]) for r in rows] == [(session, "0", "real")]
