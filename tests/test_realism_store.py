"""The realism study's SQLite store: every invalid answer refused with its status and nothing stored; a closed and
reopened database keeps every session and answer, and a session resumes at its first unanswered trial."""

from __future__ import annotations

import numpy as np
import pytest

from deepnag.realism import trials
from deepnag.realism.store import RequestError, Store
from tests.realism_fakes import fake_pool

PLAN = [{"arm": 0, "truth": "real", "class": 1, "index": 2, "practice": True},
        {"arm": 1, "truth": "generated", "class": 0, "index": 3, "practice": False},
        {"arm": 0, "truth": "generated", "class": 2, "index": 0, "practice": False}]


def _refused(store: Store, session: str, body, status: int, reason: str) -> None:
    before = store.answers()
    with pytest.raises(RequestError, match=f"^{reason}$") as error:
        store.answer(session, body)
    assert error.value.status == status and store.answers() == before


def test_every_invalid_answer_is_refused_with_its_reason_and_nothing_is_stored(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    session = store.new_session(PLAN)
    _refused(store, "nobody", {"trial": 0, "answer": "real"}, 404, "unknown session")
    _refused(store, session, [0, "real"], 400, "the body must be a JSON object")
    _refused(store, session, {"trial": 0, "answer": "fake"}, 400, "'answer' must be one of real, generated")
    _refused(store, session, {"trial": 0}, 400, "'answer' must be one of real, generated")
    _refused(store, session, {"trial": "0", "answer": "real"}, 400, "'trial' must be a whole number")
    _refused(store, session, {"trial": True, "answer": "real"}, 400, "'trial' must be a whole number")
    _refused(store, session, {"trial": 0, "answer": "real", "ms": -1}, 400,
             "'ms' must be a whole number of milliseconds from 0 to a day")
    _refused(store, session, {"trial": 0, "answer": "real", "who": 1}, 400, "unknown field 'who' in the body")
    _refused(store, session, {"trial": 3, "answer": "real"}, 404,
             "trial 3 is out of range: this session has trials 0 to 2")
    _refused(store, session, {"trial": -1, "answer": "real"}, 404,
             "trial -1 is out of range: this session has trials 0 to 2")
    _refused(store, session, {"trial": 1, "answer": "real"}, 409, "trial 1 is not the next one: trial 0 is")
    row = store.answer(session, {"trial": 0, "answer": "generated", "ms": 900})
    assert (row["correct"], row["practice"], row["truth"]) == (0, 1, "real")
    _refused(store, session, {"trial": 0, "answer": "real"}, 409, "trial 0 is already answered")
    assert len(store.answers()) == 1
    store.close()


def test_a_reopened_store_keeps_every_answer_and_the_session_resumes(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    store.set_meta("token", "t")
    first, second = store.new_session(PLAN), store.new_session(PLAN[:2])
    store.answer(first, {"trial": 0, "answer": "real"})
    store.answer(first, {"trial": 1, "answer": "real", "ms": 5})
    store.answer(second, {"trial": 0, "answer": "generated"})
    kept = store.answers()
    store.close()
    again = Store(tmp_path / "s.sqlite")
    assert again.answers() == kept and again.meta("token") == "t" and again.session_count() == 2
    assert again.plan(first) == PLAN and again.next_trial(first) == 2 and again.next_trial(second) == 1
    _refused(again, first, {"trial": 1, "answer": "real"}, 409, "trial 1 is already answered")
    again.answer(first, {"trial": 2, "answer": "generated"})
    assert [(a["session"], a["trial"]) for a in again.answers()] == sorted(
        [(first, 0), (first, 1), (first, 2), (second, 0)])
    again.close()


@pytest.mark.parametrize("generators", [1, 2, 3])
def test_a_plan_is_balanced_per_generator_and_its_practice_comes_first(generators):
    pool = fake_pool(arms=tuple(f"g{i}" for i in range(generators)))
    plan = trials.plan(pool, 12 * generators, 4, np.random.default_rng(generators))
    assert [t["practice"] for t in plan] == [True] * 4 + [False] * 12 * generators
    scored = plan[4:]
    for arm in range(generators):
        for truth in ("real", "generated"):
            mine = [t for t in scored if t["arm"] == arm and t["truth"] == truth]
            assert len(mine) == 6 and sorted(np.bincount([t["class"] for t in mine])) == [2, 2, 2]  # classes even
            labels = (pool.real if truth == "real" else pool.generated)[arm][1]
            assert all(labels[t["index"]] == t["class"] for t in mine)
    order = [(t["arm"], t["truth"]) for t in scored]
    assert order != sorted(order)  # shuffled


def test_trials_that_cannot_be_balanced_are_a_one_line_error():
    from deepnag.errors import UserError

    with pytest.raises(UserError, match=r"^--trials=6 cannot be split evenly: with 2 generator\(s\) it must be a "
                                        r"multiple of 4 \(half real, half generated per generator\)$"):
        trials.plan(fake_pool(), 6, 0, np.random.default_rng(0))


def test_samples_are_json_the_browser_draws():
    pen, body = fake_pool(), fake_pool("jk2017-kinect")
    drawn = trials.sample_json(pen, pen.sample(0, "real", 0))
    assert drawn["kind"] == "pen" and drawn["y_down"] and len(drawn["strokes"][0]) == 16
    drawn = trials.sample_json(body, body.sample(1, "generated", 2))
    assert drawn["kind"] == "skeleton" and not drawn["y_down"] and np.shape(drawn["frames"]) == (16, 21, 2)
    assert len(drawn["bones"]) == 20 and abs(np.mean(drawn["frames"])) < 1e-2  # centred


def test_a_pool_saved_is_the_pool_loaded(tmp_path):
    pool = fake_pool("jk2017-kinect")
    pool.save(tmp_path / "pool.npz")
    back = trials.Pool.load(tmp_path / "pool.npz")
    assert (back.dataset, back.kind, back.class_names, back.arms) == (pool.dataset, pool.kind, pool.class_names,
                                                                      pool.arms)
    for a, b in zip(pool.real + pool.generated, back.real + back.generated):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
