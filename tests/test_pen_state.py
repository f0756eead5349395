"""Multistroke pen data (MMG: x, y and a pen state) through preprocessing, GPSR, the chain, the 1-NN recogniser's
choice, the metrics and the figures: strokes stay strokes, the pen state stays 0 or 1."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import main
from deepnag import visualize
from deepnag.data import chain, gpsr, mmg
from deepnag.data.batches import GestureData
from deepnag.data.preprocessing import PEN_LEVEL, MinMaxNormalizer, allocate_points, is_pen_data, resample
from deepnag.evaluation.metrics import all_metrics
from deepnag.recognition.dollar_p import DollarP
from deepnag.recognition.recognizers import JackknifeDTW, Protractor, recognizer_for
from tests.test_mmg import medium  # noqa: F401 (a fixture; mmg_data is in conftest)

N = 64


def _three_strokes() -> np.ndarray:
    """An H: two verticals and a short bar, drawn in that order (pixels, y down)."""
    return mmg.sample_of([np.array([[0.0, 0.0], [0.0, 50.0], [0.0, 100.0]]),
                          np.array([[60.0, 0.0], [60.0, 100.0]]),
                          np.array([[0.0, 50.0], [60.0, 50.0]])])


def _stroke_counts(samples) -> list[int]:
    return [len(mmg.strokes_of(s)) for s in samples]


# ----------------------------------------------------------------------------------------------------------------------
# Preprocessing
# ----------------------------------------------------------------------------------------------------------------------
def test_pen_data_is_told_from_coordinates():
    assert is_pen_data([_three_strokes()])
    assert not is_pen_data([np.zeros((5, 2))])
    assert not is_pen_data([np.random.default_rng(0).random((5, 3))])  # a 3D path
    assert not is_pen_data([])


def test_points_go_two_to_each_stroke_then_by_length():
    counts = allocate_points(np.array([100.0, 100.0, 60.0, 0.0, 10.0]), np.array([3, 2]), 10)
    assert counts[:3].sum() == 10 and counts[3:].sum() == 10 and (counts >= 2).all()
    # two each, then 4 · (100, 100, 60)/260 = 1.54, 1.54, 0.92: 1, 1, 0 and the two largest remainders (0.92, then
    # the first 0.54, ties to the earlier stroke)
    assert counts[:3].tolist() == [4, 3, 3]
    assert counts[3:].tolist() == [2, 8]
    few = allocate_points(np.array([5.0, 1.0, 3.0]), np.array([3]), 2)  # more strokes than points: the longest
    assert few.tolist() == [1, 0, 1]


def test_resampling_keeps_every_stroke_its_ends_and_an_exact_pen_state():
    sample = _three_strokes()
    out = resample([sample], N)[0]
    assert out.shape == (N, 3) and set(np.unique(out[:, 2])) == {0.0, 1.0} and out[0, 2] == 1.0
    for original, resampled in zip(mmg.strokes_of(sample), mmg.strokes_of(out)):
        np.testing.assert_allclose(resampled[[0, -1]], original[[0, -1]])
        steps = np.linalg.norm(np.diff(resampled, axis=0), axis=1)  # equally spaced along the stroke's own path
        np.testing.assert_allclose(steps, steps[0], rtol=1e-9)
    # no point on a pen-up jump: every point lies on one of the H's three segments
    on_h = (np.isclose(out[:, 0], 0) | np.isclose(out[:, 0], 60) | np.isclose(out[:, 1], 50))
    assert on_h.all()


def test_the_normaliser_gives_the_generator_each_strokes_parity_and_maps_it_back():
    one_stroke = mmg.sample_of([np.array([[0.0, 0.0], [10.0, 20.0]])])
    for data in ([_three_strokes()], [one_stroke]):  # even when no sample has a pen-up
        normaliser = MinMaxNormalizer.fit(data, pen=True)
        mapped = normaliser.transform(_three_strokes())
        # the H's strokes have 3, 2 and 2 points: +, +, +, −, −, +, + (PEN_LEVEL < 1: tanh reaches it unsaturated)
        np.testing.assert_array_equal(mapped[:, 2] / PEN_LEVEL, [1, 1, 1, -1, -1, 1, 1])
        assert PEN_LEVEL < 1
        np.testing.assert_array_equal(mapped[:, :2].min(axis=0), [-1, -1])
        np.testing.assert_array_equal(normaliser.inverse(mapped)[:, 2], _three_strokes()[:, 2])
    batch = np.stack([_three_strokes(), mmg.sample_of([np.zeros((3, 2)), np.ones((4, 2))])])  # any leading shape
    normaliser = MinMaxNormalizer.fit(list(batch), pen=True)
    np.testing.assert_array_equal(normaliser.transform(batch)[1, :, 2] / PEN_LEVEL, [1, 1, 1, -1, -1, -1, -1])
    np.testing.assert_array_equal(normaliser.inverse(normaliser.transform(batch)), batch)


def test_the_normaliser_tells_pen_data_by_itself_unless_told():
    assert MinMaxNormalizer.fit([_three_strokes()]).pen
    assert not MinMaxNormalizer.fit([_three_strokes()], pen=False).pen
    three_coordinates = _three_strokes().copy()
    three_coordinates[:, 2] += 0.5  # a third feature that is not 0 and 1: a coordinate
    assert not MinMaxNormalizer.fit([three_coordinates]).pen
    assert not MinMaxNormalizer.fit([_three_strokes()[:, :2]]).pen


def test_a_generated_parity_starts_a_stroke_wherever_its_sign_flips():
    normaliser = MinMaxNormalizer(np.zeros(3), np.ones(3), pen=True)
    generated = np.array([[0, 0, 0.41], [1, 0, 0.02], [2, 0, -0.01], [3, 0, -0.6], [4, 0, 0.0], [5, 0, 0.3]])
    states = normaliser.inverse(generated)[:, 2]
    np.testing.assert_array_equal(states, [1, 1, 0, 1, 0, 1])  # 0.0 counts as positive
    assert [len(s) for s in mmg.strokes_of(normaliser.inverse(generated))] == [2, 2, 2]
    plain = MinMaxNormalizer(np.zeros(3), np.ones(3))  # not pen data: the third feature is a coordinate
    np.testing.assert_allclose(plain.inverse(generated)[:, 2], (generated[:, 2] + 1) / 2)


def test_the_pen_encoding_travels_with_a_checkpoint():
    from deepnag import checkpoint
    from deepnag.generate.sampling import normalizer_from
    for pen in (True, False):
        state = {"normalizer": checkpoint.normalizer_state(np.zeros(3), np.ones(3), pen)}
        assert normalizer_from(state).pen is pen


def test_the_pen_state_round_trips_through_preprocessing_on_real_samples(medium):  # noqa: F811
    """resample → normaliser → inverse → strokes_of, every real MMG sample (each stroke has ≥ 2 points there)."""
    assert min(len(s) for sample in medium.sequences for s in mmg.strokes_of(sample)) >= 2
    data = GestureData.from_raw(medium, N)
    assert set(np.unique(data.samples[..., 2].numpy())) == {-PEN_LEVEL, PEN_LEVEL}
    back = data.normalizer.inverse(data.samples.numpy())
    assert _stroke_counts(back) == _stroke_counts(medium.sequences)
    for raw, sample in list(zip(medium.sequences, back))[::97]:
        for original, resampled in zip(mmg.strokes_of(raw), mmg.strokes_of(sample)):
            np.testing.assert_allclose(resampled[[0, -1]], original[[0, -1]], atol=1e-3)  # float32 round trip


# ----------------------------------------------------------------------------------------------------------------------
# GPSR and the chain
# ----------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("module", [gpsr, chain])
def test_gpsr_and_the_chain_keep_strokes_and_pen_states_of_real_samples(medium, module):  # noqa: F811
    sources = list(medium.sequences[::7])
    out = module.variants(sources, np.random.default_rng(0))
    assert out.shape == (len(sources), gpsr.POINTS, 3)
    assert set(np.unique(out[..., 2])) == {0.0, 1.0} and (out[:, 0, 2] == 1.0).all()
    assert _stroke_counts(out) == _stroke_counts(sources)
    assert np.isfinite(out).all()


def test_gpsr_places_each_stroke_at_its_own_start():
    sample = _three_strokes()
    out = gpsr.variants([sample] * 4, np.random.default_rng(1), n=16)
    for variant in out:
        starts = [s[0] for s in mmg.strokes_of(variant)]
        np.testing.assert_allclose(starts, [s[0] for s in mmg.strokes_of(sample)])


def test_the_chain_turns_x_and_y_only():
    sample = _three_strokes()
    out = chain.variants([sample] * 8, np.random.default_rng(2), steps=("gpsr", "rotate"), degrees=30.0)
    plain = gpsr.variants([sample] * 8, np.random.default_rng(2))
    np.testing.assert_array_equal(out[..., 2], plain[..., 2])
    assert not np.allclose(out[..., :2], plain[..., :2])
    np.testing.assert_allclose(out[..., :2].mean(axis=1), plain[..., :2].mean(axis=1))  # turned about the centroid


def test_two_dimensional_strokes_are_varied_as_before():
    rng = np.random.default_rng(3).random((5, 20, 2))
    np.testing.assert_array_equal(chain.variants(list(rng), np.random.default_rng(4)),
                                  chain.variants(list(rng), np.random.default_rng(4), pen=False))


# ----------------------------------------------------------------------------------------------------------------------
# The recogniser and the metrics
# ----------------------------------------------------------------------------------------------------------------------
def test_the_recogniser_is_chosen_by_data_set():
    assert isinstance(recognizer_for(3, dataset="mmg"), DollarP)
    assert isinstance(recognizer_for(3, samples=[_three_strokes()]), DollarP)
    assert isinstance(recognizer_for(2, dataset="dollar-gds"), Protractor)
    assert isinstance(recognizer_for(63, dataset="jk2017-kinect"), JackknifeDTW)
    assert isinstance(recognizer_for(3, dataset="folder", samples=[_three_strokes()]), JackknifeDTW)  # named wins
    assert isinstance(recognizer_for(3, samples=[np.random.default_rng(0).random((5, 3))]), JackknifeDTW)


def test_tstr_and_yardstick_of_mmg_data_use_dollar_p(medium):  # noqa: F811
    raw = medium.select(("X", "line", "asterisk"), 30)
    assert len(set(raw.subjects)) >= 2
    synthetic = resample(list(raw.sequences), 32)[::3]
    metrics = all_metrics(raw.sequences, raw.labels, raw.subjects, synthetic, raw.labels[::3], seed=0, learned=False)
    assert metrics["recognizer"] == "DollarP"
    assert metrics["tstr_accuracy"] > 0.9 and metrics["yardstick_accuracy"] > 0.9


# ----------------------------------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------------------------------
def test_a_drawn_sample_has_one_line_per_stroke():
    sample = _three_strokes()
    assert len(visualize.stroke_lines(sample)) == 3
    assert len(visualize.stroke_lines(np.stack([sample, sample]))) == 6
    assert len(visualize.stroke_lines(sample[:, :2])) == 1
    fig = visualize.gesture_grid_figure(sample[None], sample[None, None], sample[None, None], ["H"])
    assert len(fig.axes[0].lines) == 3 + 1  # the strokes, then the dot on the first point
    for line, stroke in zip(fig.axes[0].lines, mmg.strokes_of(sample)):
        np.testing.assert_allclose(line.get_xydata(), stroke * [1, -1])  # y down: drawn upside up


def test_the_training_figure_draws_pen_data_as_strokes():
    sample = _three_strokes()
    fig = visualize.samples_figure(resample([sample], 16)[None], resample([sample], 16)[None], ["H"])
    assert len(fig.axes[0].lines) == 3 + 1 and fig.axes[0].name == "rectilinear"


def test_evaluate_draws_an_mmg_checkpoint(tmp_path, mmg_data):  # noqa: F811
    logdir = tmp_path / "logs"
    assert main.main([f"--datapath={mmg_data}", f"--logdir={logdir}", "--dataset=mmg", "--classes=H,X",
                      "--max-per-class=4", "--resample-n=16", "--batch-size=4", "--epochs=1", "--vis-frequency=0",
                      "--checkpoint-frequency=0"]) == 0
    (run,) = list(logdir.iterdir())
    assert main.main([f"--evaluate={run / 'checkpoints' / 'checkpoint-final.pt'}"]) == 0
    image = np.asarray(Image.open(run / "evaluation" / "checkpoint-final" / "samples.png").convert("RGB"), dtype=int)
    red = (image[..., 0] > 150) & (image[..., 1] < 100) & (image[..., 2] < 100)
    dark = image.sum(axis=2) < 200
    assert image.shape[0] > 5 * image.shape[1] // 2  # 2 columns, 16 + 3 rows
    assert red.sum() > 200 and dark.sum() > 2000  # the real strokes in red, generated ones in black: not blank
