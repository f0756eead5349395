"""deepnag.evaluation.augmentation: the held-out-writer study, against 1-NN refitted on every training set."""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pytest

import main
from deepnag.data import chain, gpsr
from deepnag.evaluation import augmentation
from deepnag.generate import vetting
from deepnag.recognition import gru_recognizer
from deepnag.recognition.dollar_p import DollarP
from deepnag.recognition.gru_recognizer import GRURecognizer
from deepnag.recognition.recognizers import Protractor, recognizer_for

STEPS = 40
"""Optimiser steps of the learned recogniser in these tests: what is checked is bookkeeping, not accuracy."""


def _strokes(rng: np.random.Generator, labels: np.ndarray, noise: float) -> list[np.ndarray]:
    """Class c: a polyline turning by c·40° per step, with noise (distinct shapes Protractor can tell apart)."""
    out = []
    for c in labels:
        angles = np.cumsum(np.full(12, np.deg2rad(40.0 * c + 10.0)) + rng.normal(0.0, noise, 12))
        out.append(np.cumsum(np.stack([np.cos(angles), np.sin(angles)], axis=1), axis=0))
    return out


def _fake_generator(num_classes: int):
    def synthesize(k: int, seed: int):
        labels = np.repeat(np.arange(num_classes), k)
        return np.stack(_strokes(np.random.default_rng(1000 + seed), labels, 0.6)), labels
    return synthesize


def test_every_row_equals_one_nearest_neighbour_refitted_on_its_training_set():
    rng = np.random.default_rng(0)
    seen_labels = np.repeat(np.arange(3), 2)
    test_labels = np.repeat(np.arange(3), 15)
    seen, test = _strokes(rng, seen_labels, 0.5), _strokes(rng, test_labels, 0.5)
    synthesize = _fake_generator(3)
    counts, seeds = (1, 4), (0, 1)

    def vetted(k: int, seed: int):  # another source of each class's samples, for the "vetted-chain-mix" mix
        labels = np.repeat(np.arange(3), k)
        return np.stack(_strokes(np.random.default_rng(2000 + seed), labels, 0.2)), labels

    result = augmentation.study(seen, seen_labels, test, test_labels, 3, synthesize, counts=counts, seeds=seeds,
                                learned=False, vetted=vetted)
    assert result["learned"] is None

    def error(samples, labels) -> float:
        predicted = recognizer_for(2).fit(samples, labels).predict(test)
        return float(np.mean(predicted != test_labels))

    assert result["real_error"] == error(seen, seen_labels)
    assert result["real_error"] > 0  # the study has something to improve
    by_key = {(row["added"], row["per_class"]): row for row in result["rows"]}
    assert set(by_key) == {(kind, k) for kind in (*augmentation.ADDED, "vetted-chain-mix") for k in counts}
    for i, seed in enumerate(seeds):
        draws = np.random.default_rng(seed)  # GPSR first, then the chain, from one stream
        g, g_labels = gpsr.per_class(seen, seen_labels, 4, draws, 3)
        c, c_labels = chain.per_class(seen, seen_labels, 4, draws, 3)
        s, s_labels = synthesize(4, seed)
        v, v_labels = vetted(4, seed)
        for k in counts:
            first = np.tile(np.arange(4), 3)
            parts = {"gpsr": (list(g[first < k]), g_labels[first < k]),
                     "chain": (list(c[first < k]), c_labels[first < k]),
                     "generator": (list(s[first < k]), s_labels[first < k]),
                     "mix": (list(g[first < k - k // 2]) + list(s[first < k // 2]),
                              np.concatenate([g_labels[first < k - k // 2], s_labels[first < k // 2]])),
                     "chain-mix": (list(c[first < k - k // 2]) + list(s[first < k // 2]),
                                         np.concatenate([c_labels[first < k - k // 2], s_labels[first < k // 2]])),
                     "vetted-chain-mix": (list(c[first < k - k // 2]) + list(v[first < k // 2]),
                                      np.concatenate([c_labels[first < k - k // 2], v_labels[first < k // 2]]))}
            for kind, (extra, extra_labels) in parts.items():
                expected = error(list(seen) + extra, np.concatenate([seen_labels, extra_labels]))
                assert by_key[(kind, k)]["errors"][i] == expected, (kind, k, seed)
    row = by_key[("gpsr", 4)]
    errors = np.array(row["errors"])
    assert row["error"]["mean"] == pytest.approx(errors.mean())
    assert row["error"]["sd"] == pytest.approx(errors.std(ddof=1))
    assert row["reduction"]["mean"] == pytest.approx(np.mean((result["real_error"] - errors) / result["real_error"]))
    paired = {(r["added"], r["per_class"]): r["differences"] for r in result["versus_gpsr"]}
    assert set(paired) == {(kind, k) for kind in ("generator", "mix", "chain-mix", "vetted-chain-mix") for k in counts}
    assert paired[("mix", 4)] == pytest.approx(np.array(by_key[("mix", 4)]["errors"]) - errors)
    for r in result["versus_best_simple"]:  # the baseline is the simple kind with the lower mean error at that count
        best = min(augmentation.SIMPLE, key=lambda kind: (by_key[(kind, r["per_class"])]["error"]["mean"], kind))
        assert r["baseline"] == best
        assert r["differences"] == pytest.approx(np.array(by_key[(r["added"], r["per_class"])]["errors"])
                                                 - by_key[(best, r["per_class"])]["errors"])
    assert len(result["versus_best_simple"]) == 4 * len(counts)
    lines = augmentation.table(result).splitlines()  # the longer label widens its column: errors stay aligned
    ends = {re.search(r"\s([+-]?\d\.\d{4})\s", line).end(1) for line in lines if re.match(r"\d", line)}
    assert len(ends) == 1 and any(line.startswith("4               real + vetted-chain-mix  ") for line in lines)
    plain = augmentation.study(seen, seen_labels, test, test_labels, 3, synthesize, counts=counts, seeds=seeds,
                               learned=False)  # without `vetted`: no such row, the others as they were
    assert plain["rows"] == [row for row in result["rows"] if row["added"] != "vetted-chain-mix"]
    simple = augmentation.study(seen, seen_labels, test, test_labels, 3, None, counts=counts, seeds=seeds, learned=False,
                                vetted=vetted)  # nor without the generator (whose rows would leak)
    assert {row["added"] for row in simple["rows"]} == set(augmentation.SIMPLE)


def test_the_learned_rows_equal_the_recogniser_refitted_on_each_training_set_in_any_number_of_processes():
    rng = np.random.default_rng(3)
    seen_labels = np.repeat(np.arange(3), 2)
    test_labels = np.repeat(np.arange(3), 6)
    seen, test = _strokes(rng, seen_labels, 0.5), _strokes(rng, test_labels, 0.5)
    synthesize = _fake_generator(3)
    options = dict(counts=(2,), seeds=(5, 6), learned_seeds=2, learned_steps=STEPS)
    inline = augmentation.study(seen, seen_labels, test, test_labels, 3, synthesize, workers=1, **options)
    spawned = augmentation.study(seen, seen_labels, test, test_labels, 3, synthesize, workers=2, **options)
    assert spawned["learned"] == inline["learned"]  # one thread per fit: the same numbers in every process
    learned = inline["learned"]
    assert learned["recognizer"] == "GRURecognizer" and learned["seeds"] == [5, 6]

    def error(samples, labels) -> float:
        return float(np.mean(GRURecognizer(random_state=5, steps=STEPS).fit(samples, labels).predict(test) != test_labels))

    assert learned["real_errors"][0] == error(seen, seen_labels)
    draws = np.random.default_rng(5)
    g, g_labels = gpsr.per_class(seen, seen_labels, 2, draws, 3)
    c, c_labels = chain.per_class(seen, seen_labels, 2, draws, 3)
    s, s_labels = synthesize(2, 5)
    first = np.tile(np.arange(2), 3) < 1
    rows = {r["added"]: r for r in learned["rows"]}
    assert rows["chain"]["errors"][0] == error(seen + list(c), np.concatenate([seen_labels, c_labels]))
    mixed = seen + list(c[first]) + list(s[first])
    assert rows["chain-mix"]["errors"][0] == error(
        mixed, np.concatenate([seen_labels, c_labels[first], s_labels[first]]))
    real = np.array(learned["real_errors"])
    if (real > 0).all():  # each seed against real alone of the same seed
        assert rows["chain"]["reduction"]["mean"] == pytest.approx(np.mean((real - rows["chain"]["errors"]) / real))
    text = augmentation.table(inline)
    assert "error: 1 − accuracy of GRURecognizer" in text and "seeds (sampling and training)" in text


def test_every_other_kind_is_compared_with_gpsr_seed_by_seed_at_the_same_count():
    rows = [{"added": "gpsr", "per_class": 8, "errors": [0.10, 0.20, 0.30]},
            {"added": "generator", "per_class": 8, "errors": [0.05, 0.25, 0.20]},
            {"added": "gpsr", "per_class": 32, "errors": [0.10, 0.10, 0.10]},
            {"added": "mix", "per_class": 32, "errors": [0.00, 0.05, 0.10]}]
    paired = {(r["added"], r["per_class"]): r for r in augmentation.versus_gpsr(rows)}
    assert set(paired) == {("generator", 8), ("mix", 32)}
    assert paired[("generator", 8)]["differences"] == pytest.approx([-0.05, 0.05, -0.10])
    d = paired[("mix", 32)]["difference"]
    assert (d["mean"], d["min"], d["max"]) == pytest.approx((-0.05, -0.10, 0.0))
    assert d["sd"] == pytest.approx(np.std([-0.10, -0.05, 0.0], ddof=1))
    text = augmentation.table({"recognizer": "Protractor", "real_error": 0.2, "rows": [
        {**r, "error": {"mean": float(np.mean(r["errors"])), "sd": 0.0}, "reduction": None} for r in rows],
        "seeds": [0, 1, 2], "samples": {"test": 10}})
    assert "generator − GPSR       -0.0333  ± 0.0764  (-0.1000…+0.0500)" in text
    assert "mix − GPSR             -0.0500  ± 0.0500  (-0.1000…+0.0000)" in text
    assert "whole min…max is below zero" in text


def test_without_a_generator_only_gpsr_rows_and_a_table_that_says_which_way_is_better():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(2), 3)
    seen, test = _strokes(rng, labels, 0.5), _strokes(rng, np.repeat(np.arange(2), 5), 0.5)
    result = augmentation.study(seen, labels, test, np.repeat(np.arange(2), 5), 2, None, counts=(2,), seeds=(0,),
                                learned=False)
    assert [row["added"] for row in result["rows"]] == ["gpsr", "chain"]
    text = augmentation.table(result)
    assert "real alone" in text and "real + GPSR" in text and "real + chain" in text and "real + generator" not in text
    assert "lower is better" in text and "negative = fewer errors" in text
    assert result["versus_gpsr"] == result["versus_best_simple"] == [] and "paired" not in text


def test_a_variant_is_one_more_row_kind_on_the_same_seeds_and_gpsr_draws():
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(3), 2)
    seen, test = _strokes(rng, labels, 0.5), _strokes(rng, np.repeat(np.arange(3), 6), 0.5)
    test_labels = np.repeat(np.arange(3), 6)
    synthesize = _fake_generator(3)
    plain = augmentation.study(seen, labels, test, test_labels, 3, synthesize, counts=(1, 3), seeds=(0, 1),
                               learned=False)
    wider = augmentation.study(seen, labels, test, test_labels, 3, synthesize, counts=(1, 3), seeds=(0, 1),
                               learned=False, variants={"same": synthesize, "gpsr again": lambda k, s: gpsr.per_class(
                                   seen, labels, k, np.random.default_rng(s), 3)})
    rows = {(r["added"], r["per_class"]): r["errors"] for r in wider["rows"]}
    assert [r["added"] for r in wider["rows"]][::2] == [*augmentation.ADDED, "same", "gpsr again"]
    assert {(r["added"], r["per_class"]): r["errors"] for r in plain["rows"]}.items() <= rows.items()
    for k in (1, 3):
        assert rows[("same", k)] == rows[("generator", k)] and rows[("gpsr again", k)] == rows[("gpsr", k)]
    assert "real + same" in augmentation.table(wider)
    for taken in ("gpsr", "vetted"):  # a row's name, or a pool the study's own mixes draw from
        with pytest.raises(ValueError, match=rf"variant names \['{taken}'\] are taken"):
            augmentation.study(seen, labels, test, test_labels, 3, synthesize, counts=(1,), seeds=(0,),
                               variants={taken: synthesize})


def _train_and_measure(tmp_path, shared_data, *flags: str) -> dict:
    logdir = tmp_path / "logs"
    common = [f"--datapath={shared_data}", "--classes=arrow,star", "--resample-n=12", "--batch-size=16"]
    assert main.main([*common, f"--logdir={logdir}", "--use-tensorboard=0", "--epochs=1", *flags]) == 0
    (path,) = logdir.glob("*/checkpoints/checkpoint-final.pt")
    out = tmp_path / "synthetic"
    assert main.main([f"--generate={path}", f"--datapath={shared_data}", f"--output={out}", "--metrics=study",
                      "--recognizer=gru"]) == 0  # MiniRocket's rows: tests/test_recognizer_interface.py
    return json.loads((tmp_path / "synthetic.metrics.json").read_text())


def test_metrics_of_a_checkpoint_with_held_out_writers_measure_on_them(tmp_path, shared_data, capsys, monkeypatch):
    monkeypatch.setattr(augmentation, "LEARNED_SEEDS", 1)
    monkeypatch.setattr(gru_recognizer, "STEPS", STEPS)
    metrics = _train_and_measure(tmp_path, shared_data, "--subjects=s02,s03")
    study = metrics["augmentation"]
    assert study["leak"] is None and study["seen_subjects"] == ["s02", "s03"]
    assert study["heldout_subjects"] == [f"s{i:02d}" for i in range(4, 12)]
    assert study["samples"] == {"seen": 2 * 2 * 10, "test": 8 * 2 * 10}
    assert {row["added"] for row in study["rows"]} == {*augmentation.ADDED, "vetted-chain-mix"}
    assert len(study["rows"][0]["errors"]) == augmentation.SEEDS
    learned = study["learned"]
    assert learned["recognizer"] == "GRURecognizer" and len(learned["real_errors"]) == 1  # LEARNED_SEEDS, patched
    assert {row["added"] for row in learned["rows"]} == {*augmentation.ADDED, "vetted-chain-mix"}
    assert 0.0 <= study["tstr_heldout_accuracy"] <= 1.0
    err = capsys.readouterr().err
    assert "real + vetted-chain-mix" in err  # --synthesizer=vetted-chain-mix's row, vetted once per seed:
    assert err.count("vetted: ") == augmentation.SEEDS and "(160 per class wanted, 640 drawn per class" in err
    assert "augmentation: recogniser trained on 2 writers (s02, s03), tested on the held-out 8 writers" in err
    assert "real + generator" in err
    eta = next(line for line in err.splitlines() if "held-out augmentation study: 1-NN over 5 seeds" in line)
    fits = (1 + 3 * len(study["rows"]) // 3) * 1  # real alone and every row, one learned seed (patched)
    assert f"{fits} recogniser fits" in eta and "ETA about" in eta and "(1-NN distances about" in eta
    assert f"one GRU fit took {metrics['learned']['fit_seconds']:.1f} s here" in eta


def test_metrics_of_a_checkpoint_that_saw_everyone_say_the_generator_rows_would_leak(tmp_path, shared_data, capsys,
                                                                                      monkeypatch):
    monkeypatch.setattr(augmentation, "LEARNED_SEEDS", 1)
    monkeypatch.setattr(gru_recognizer, "STEPS", STEPS)
    study = _train_and_measure(tmp_path, shared_data)["augmentation"]
    assert "saw every subject" in study["leak"] and {row["added"] for row in study["rows"]} == {"gpsr", "chain"}
    assert not set(study["seen_subjects"]) & set(study["heldout_subjects"])
    assert len(study["seen_subjects"]) == len(study["heldout_subjects"]) == 5
    assert "note: the checkpoint saw every subject, so generator rows would be measured on writers it trained on" \
        in capsys.readouterr().err


def test_the_held_out_study_runs_over_the_seeds_asked_for(shared_data):
    """`runs`: the study's seeds are `seed`, `seed` + 1, … (--metrics's five by default), each row one error per seed."""
    from deepnag.data import load_raw, subjects
    from deepnag.evaluation.report import held_out

    raw = subjects.keep(load_raw("dollar-gds", shared_data).select(("arrow", "star")), ["s02", "s03", "s04", "s05"])
    study = held_out({}, raw, 0, None, None, None, 7, runs=2, learned=False, counts=(2,))
    assert study["seeds"] == [7, 8] and all(len(row["errors"]) == 2 for row in study["rows"])
    assert held_out({}, raw, 0, None, None, None, 7, learned=False, counts=(2,))["seeds"] == [7 + i for i in
                                                                                             range(augmentation.SEEDS)]


def test_the_plans_eta_adds_the_1nn_distances_to_the_fits_shared_by_the_workers(caplog):
    with caplog.at_level(logging.INFO, logger=augmentation.log.name):
        augmentation._log_plan(5, 12, 2, 30.0, 240.0)  # 12 fits of 30 s on 2 workers: 3 min; distances 4 min
        augmentation._log_plan(5, 0, 1, None, 600.0)
    first, second = (record.getMessage() for record in caplog.records)
    assert first == ("held-out augmentation study: 1-NN over 5 seeds, 12 recogniser fits on 2 workers (one GRU fit took "
                     "30.0 s here); ETA about 7 min (1-NN distances about 4 min)")
    assert second == "held-out augmentation study: 1-NN over 5 seeds, 0 recogniser fits; ETA about 10 min " \
                     "(1-NN distances about 10 min)"


def test_a_seed_draws_every_source_once_and_the_eta_counts_each_ones_distances():
    """One list of sources: what `_pools` draws is what the ETA counts (bounded against the test samples; the vetting's
    candidates unbounded against the seen ones), and the vetted pool only beside the generator."""
    seen, labels = [np.zeros((4, 2)) + i for i in range(4)], np.array([0, 0, 1, 1])
    made = lambda k, seed: (np.zeros((2 * k, 4, 2)), np.repeat([0, 1], k))  # noqa: E731
    assert list(augmentation._sources(seen, labels, 2, None, {}, made)) == ["gpsr", "chain"]
    sources = augmentation._sources(seen, labels, 2, made, {"mine": made}, made)
    assert list(sources) == ["gpsr", "chain", "generator", "vetted", "mine"]
    pools = augmentation._pools(sources, 3, seed=0)
    assert list(pools) == list(sources) and all(np.bincount(pool[1]).tolist() == [3, 3] for pool in pools.values())
    rows = augmentation._Rows(("gpsr",), (1, 3), 2)
    assert augmentation._pairs_per_seed(rows, 10, 4, len(sources), True) == (3 * 2 * 10 * 5, 3 * 2 * vetting.POOL * 4)
    assert augmentation._pairs_per_seed(rows, 10, 4, 2, False) == (3 * 2 * 10 * 2, 0)


def test_the_etas_paces_are_per_pair_and_the_bounded_one_is_timed_on_a_few_rows(monkeypatch):
    """The real block is every test sample against every seen one; the bounded pace times at most `PACE_ROWS` rows,
    each bounded by its own nearest distance."""
    calls = []
    original = DollarP.distance_matrix

    def recorded(self, queries, templates, bounds=None):
        calls.append((len(queries), len(templates), None if bounds is None else np.asarray(bounds).copy()))
        return original(self, queries, templates, bounds)

    monkeypatch.setattr(DollarP, "distance_matrix", recorded)
    monkeypatch.setattr(augmentation, "PACE_ROWS", 5)
    rng = np.random.default_rng(0)
    test, seen = [rng.random((12, 3)) for _ in range(9)], [rng.random((12, 3)) for _ in range(4)]
    (block, block_labels, order), (unbounded, bounded) = augmentation._timed_real_block(
        DollarP(n=8), test, seen, np.arange(4))
    assert block.shape == (9, 4) and order.tolist() == [0, 1, 2, 3] and unbounded > 0 and bounded > 0
    assert [call[:2] for call in calls] == [(9, 4), (5, 4)] and calls[0][2] is None
    np.testing.assert_array_equal(calls[1][2], block[[0, 2, 4, 6, 8]].min(axis=1))


def test_an_exact_recognisers_bounded_pace_is_its_unbounded_one_without_a_second_timing(monkeypatch):
    """Protractor's bounded distances are its exact ones: the real block is computed once and both paces agree."""
    calls = []
    original = Protractor.distance_matrix

    def recorded(self, queries, templates, bounds=None):
        calls.append(bounds)
        return original(self, queries, templates, bounds)

    monkeypatch.setattr(Protractor, "distance_matrix", recorded)
    rng = np.random.default_rng(0)
    test, seen = [rng.random((12, 2)) for _ in range(6)], [rng.random((12, 2)) for _ in range(3)]
    (block, _, _), (unbounded, bounded) = augmentation._timed_real_block(Protractor(), test, seen, np.arange(3))
    assert block.shape == (6, 3) and calls == [None] and unbounded == bounded > 0
