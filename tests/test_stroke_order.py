"""--stroke-order=canonical: every drawing order of a shape becomes one; the option's refusals and its training set."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import main
from deepnag.cli import parse_args
from deepnag.data import RawGestures, load_raw, mmg
from deepnag.data.batches import GestureData, in_stroke_order, training_data_for
from deepnag.data.stroke_order import canonical, canonical_stroke
from deepnag.errors import UserError
from tests.conftest import tiny

UP = np.array([[50.0, 0], [100, 80], [0, 80], [50, 0]])  # a triangle pointing up, clockwise on screen (y down)
DOWN = np.array([[0.0, 30], [100, 30], [50, 110], [0, 30]])  # pointing down, clockwise


def _variants(stroke: np.ndarray) -> list[np.ndarray]:
    """A closed stroke drawn from each of its corners, both ways round."""
    corners = stroke[:-1]
    starts = [np.roll(corners, -k, axis=0) for k in range(len(corners))]
    return [np.vstack([s, s[:1]]) for s in starts] + [np.vstack([s, s[:1]])[::-1] for s in starts]


def test_an_open_stroke_runs_from_its_upper_left_end():
    down, left_to_right = np.array([[5.0, 0], [5, 10], [5, 20]]), np.array([[0.0, 5], [10, 5], [20, 6]])
    np.testing.assert_array_equal(canonical_stroke(down[::-1]), down)
    np.testing.assert_array_equal(canonical_stroke(down), down)
    np.testing.assert_array_equal(canonical_stroke(left_to_right[::-1]), left_to_right)
    dot = np.array([[3.0, 4], [3, 5]])
    np.testing.assert_array_equal(canonical_stroke(dot[::-1]), dot[::-1])  # two points: left as drawn


def test_a_closed_stroke_runs_clockwise_from_its_upper_left_point():
    for variant in _variants(UP):
        turned = canonical_stroke(variant)
        np.testing.assert_array_equal(turned[0], [50, 0])  # the apex
        x, y = turned[:, 0], turned[:, 1]
        assert np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) > 0  # clockwise on screen
        assert len(turned) == len(variant) and np.array_equal(turned[-1], turned[0])  # closed at the new start
        assert set(map(tuple, turned)) == set(map(tuple, variant))  # the same points
    gap = np.array([[0.0, 0], [10, 0], [10, 10], [0, 10], [1, 1]])  # a square left open by a small gap
    np.testing.assert_array_equal(canonical_stroke(gap[::-1]), [[0, 0], [10, 0], [10, 10], [0, 10], [1, 1], [0, 0]])


def test_every_drawing_order_of_a_six_point_star_becomes_one():
    outputs = set()
    for first, second in itertools.product(_variants(UP), _variants(DOWN)):
        for strokes in ((first, second), (second, first)):
            outputs.add(canonical(mmg.sample_of(strokes)).tobytes())
    assert len(outputs) == 1
    star = np.frombuffer(outputs.pop()).reshape(-1, 3)
    strokes = mmg.strokes_of(star)
    assert len(strokes) == 2 and tuple(strokes[0][0]) == (50, 0)  # the up triangle first: its apex is the highest
    np.testing.assert_array_equal(canonical(star), star)  # and a canonical sample stays as it is


def test_canonical_keeps_dtype_strokes_and_points():
    sample = mmg.sample_of([DOWN[::-1], np.array([[9.0, 9], [5, 5], [1, 1]])]).astype(np.float32)
    out = canonical(sample)
    assert out.dtype == np.float32 and out.shape == sample.shape
    assert len(mmg.strokes_of(out)) == 2
    assert sorted(map(tuple, out[:, :2])) == sorted(map(tuple, sample[:, :2]))
    np.testing.assert_array_equal(out[0, :2], [1, 1])  # the short line from its upper-left end, first


def test_the_flag_is_refused_for_single_stroke_data_and_for_samples_without_a_pen_state(tmp_path):
    with pytest.raises(UserError, match=r"^--stroke-order=canonical applies to multistroke pen data \(--dataset=mmg, "
                                        r"or a folder of x, y, pen-state samples\); dollar-gds has one stroke or none$"):
        parse_args(["--dataset=dollar-gds", "--stroke-order=canonical"])
    with pytest.raises(UserError, match=r"unknown --stroke-order 'sorted'; known: drawn, canonical"):
        parse_args(["--dataset=mmg", "--stroke-order=sorted"])
    assert parse_args(["--dataset=mmg", "--stroke-order=canonical"])[0].stroke_order == "canonical"
    assert parse_args(["--evaluate=run.pt", "--stroke-order=canonical"])[0].stroke_order == "canonical"  # its own
    raw = RawGestures((np.zeros((4, 2)),), np.zeros(1, dtype=np.int64), ("a",), ("a",), ("s",))
    with pytest.raises(UserError, match=r"^--stroke-order=canonical needs multistroke pen samples .* leave the flag "
                                        r"out$"):
        in_stroke_order(raw, "canonical")
    assert in_stroke_order(raw, "drawn") is raw


def test_a_run_trains_on_the_canonical_samples_and_records_the_order(mmg_data, tmp_path):
    flags = ["--dataset=mmg", f"--datapath={mmg_data}", "--classes=six_point_star,X", "--max-per-class=5",
             "--resample-n=16"]
    config = parse_args([*flags, "--stroke-order=canonical"])[0]
    raw = load_raw("mmg", mmg_data).select(("six_point_star", "X"), 5)
    expected = GestureData.from_raw(in_stroke_order(raw, "canonical"), 16)
    assert torch.equal(training_data_for(config).samples, expected.samples)
    assert not torch.equal(training_data_for(parse_args(flags)[0]).samples, expected.samples)  # the drawn orders differ
    logdir = tmp_path / "logs"
    assert main.main(tiny(*flags, "--stroke-order=canonical", "--epochs=1", f"--logdir={logdir}")) == 0
    (run,) = logdir.iterdir()
    state = torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    assert state["config"]["stroke_order"] == "canonical"


def test_resuming_with_another_stroke_order_fine_tunes_on_it_and_says_so(mmg_data, shared_data, tmp_path, capsys):
    flags = ["--dataset=mmg", f"--datapath={mmg_data}", "--classes=six_point_star,X", "--max-per-class=5",
             "--resample-n=16", f"--logdir={tmp_path / 'logs'}"]
    assert main.main(tiny(*flags, "--epochs=1")) == 0
    (run,) = (tmp_path / "logs").iterdir()
    final = run / "checkpoints" / "checkpoint-final.pt"
    assert main.main([f"--resume={final}", "--epochs=2", "--stroke-order=canonical"]) == 0
    state = torch.load(final, weights_only=True)
    assert state["epoch"] == 2 and state["config"]["stroke_order"] == "canonical"
    log = (run / "logs" / "train.log").read_text()
    assert "from epoch 2 the strokes are in --stroke-order=canonical (the run's were drawn)" in log
    single = ["--dataset=dollar-gds", f"--datapath={shared_data}", "--classes=circle", "--max-per-class=3",
              f"--logdir={tmp_path / 'single'}"]
    assert main.main(tiny(*single, "--epochs=1")) == 0
    (other,) = (tmp_path / "single").iterdir()
    capsys.readouterr()
    assert main.main([f"--resume={other / 'checkpoints' / 'checkpoint-final.pt'}", "--epochs=2",
                      "--stroke-order=canonical"]) == 2
    assert capsys.readouterr().err.startswith("error: --stroke-order=canonical needs multistroke pen samples")
    assert [p.name for p in (tmp_path / "single").iterdir()] == [other.name]  # no run directory left behind
