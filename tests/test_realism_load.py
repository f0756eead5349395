"""50 simulated participants take the realism study at once against a real server on 127.0.0.1: no answer is lost
or stored twice (each also re-sends one answer, refused), in bounded time; the latency percentiles are printed."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.realism_fakes import fake_study, serving

PARTICIPANTS = 50
TRIALS, PRACTICE = 8, 2
LIMIT_S = 60.0
"""The whole load's time bound (it takes a few seconds)."""


def _request(url: str, latencies: list[float], lock: threading.Lock, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, reply = response.status, json.load(response)
    except urllib.error.HTTPError as error:
        status, reply = error.code, json.load(error)
    with lock:
        latencies.append(time.perf_counter() - started)
    return status, reply


def _participant(base: str, who: int, latencies: list[float], lock: threading.Lock) -> tuple[str, list[str]]:
    """Take the study: every trial fetched and answered; one answer re-sent (as a double click would)."""
    status, start = _request(f"{base}/api/sessions", latencies, lock, body={})
    assert status == 201, start
    session, answers = start["session"], []
    for trial in range(start["total"]):
        status, shown = _request(f"{base}/api/sessions/{session}/trials/{trial}", latencies, lock)
        assert status == 200 and shown["trial"] == trial, shown
        answer = ("real", "generated")[(who + trial) % 2]
        status, reply = _request(f"{base}/api/sessions/{session}/answers", latencies, lock,
                                 body={"trial": trial, "answer": answer, "ms": trial})
        assert status == 201 and reply["next"] == trial + 1, reply
        answers.append(answer)
        if trial == who % start["total"]:
            status, reply = _request(f"{base}/api/sessions/{session}/answers", latencies, lock,
                                     body={"trial": trial, "answer": answer})
            assert (status, reply) == (409, {"error": f"trial {trial} is already answered"})
    return session, answers


@pytest.mark.slow
def test_fifty_participants_at_once_lose_no_answer_and_store_none_twice(tmp_path):
    study = fake_study(tmp_path, trials=TRIALS, practice=PRACTICE)
    latencies: list[float] = []
    lock = threading.Lock()
    with serving(study) as base:
        started = time.perf_counter()
        with ThreadPoolExecutor(PARTICIPANTS) as pool:
            futures = [pool.submit(_participant, base, who, latencies, lock) for who in range(PARTICIPANTS)]
            taken = dict(f.result(timeout=LIMIT_S) for f in futures)
        elapsed = time.perf_counter() - started
    stored = study.store.answers()
    study.store.close()
    assert elapsed < LIMIT_S and len(taken) == PARTICIPANTS
    assert len(stored) == PARTICIPANTS * (TRIALS + PRACTICE)
    assert len({(a["session"], a["trial"]) for a in stored}) == len(stored)  # none twice
    for session, answers in taken.items():
        assert [a["answer"] for a in stored if a["session"] == session] == answers  # none lost, in order
    p50, p90, p99 = np.percentile(latencies, [50, 90, 99]) * 1000
    print(f"\n{PARTICIPANTS} participants, {len(latencies)} requests in {elapsed:.1f} s "
          f"({len(latencies) / elapsed:.0f}/s): latency p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms")
