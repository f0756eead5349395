"""Tests of deepnag.visualize: figures, PNG and GIF files, on synthetic gestures."""

from __future__ import annotations

import os

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from PIL import Image

from deepnag import visualize as vis
from deepnag.errors import UserError

N = 32  # points per sample


# ---------------------------------------------------------------------------
# Synthetic data
# ---------------------------------------------------------------------------


def circles(num_classes: int, count: int, radius: float = 1.0, seed: int = 0) -> np.ndarray:
    """(C, count, N, 2) noisy circles, radius growing with the class."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, N)
    unit = np.stack([np.cos(t), np.sin(t)], axis=-1)
    scale = radius * (1 + np.arange(num_classes))[:, None, None, None]
    return scale * unit + rng.normal(scale=0.02, size=(num_classes, count, N, 2))


def random_walks(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Random walks along the time axis (second to last)."""
    return np.random.default_rng(seed).normal(scale=0.1, size=shape).cumsum(axis=-2)


def standing_skeleton() -> np.ndarray:
    """(21, 3) joints of a person standing, arms down, metres."""
    joints = np.zeros((vis.NUM_JOINTS, 3))
    joints[[0, 1, 20, 2, 3]] = [[0, 0, 0], [0, 0.3, 0], [0, 0.5, 0], [0, 0.6, 0], [0, 0.75, 0]]
    for side, sign in ((4, -1), (8, 1)):  # shoulder, elbow, wrist, hand
        joints[side:side + 4] = [[sign * 0.2, 0.55, 0], [sign * 0.3, 0.3, 0],
                                 [sign * 0.35, 0.1, 0], [sign * 0.36, 0.05, 0]]
    for side, sign in ((12, -1), (16, 1)):  # hip, knee, ankle, foot
        joints[side:side + 4] = [[sign * 0.1, -0.05, 0], [sign * 0.12, -0.45, 0],
                                 [sign * 0.12, -0.85, 0], [sign * 0.18, -0.9, 0.05]]
    return joints


def skeleton_sequence(n: int, offset: tuple[float, float, float] = (0, 0, 0),
                      phase: float = 0.0) -> np.ndarray:
    """(n, 63) a skeleton raising its right hand, shifted by `offset`."""
    seq = np.repeat(standing_skeleton()[None], n, axis=0)
    lift = np.sin(np.linspace(0, np.pi, n) + phase)
    seq[:, 10:12, 1] += 0.6 * lift[:, None]  # wrist R, hand R
    return (seq + np.asarray(offset)).reshape(n, vis.SKELETON_FEATURES)


def png_pixels(path) -> np.ndarray:
    """(H, W, 3) uint8 pixels of a PNG."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


# ---------------------------------------------------------------------------
# Skeleton constants
# ---------------------------------------------------------------------------


def test_skeleton_constants_are_immutable_and_bones_span_all_joints():
    assert isinstance(vis.JOINT_NAMES, tuple) and len(vis.JOINT_NAMES) == 21
    assert isinstance(vis.BONES, tuple) and all(isinstance(b, tuple) for b in vis.BONES)
    assert len(vis.BONES) == 20 and len(set(vis.BONES)) == 20
    assert {j for bone in vis.BONES for j in bone} == set(range(21))  # 20 edges, 21 nodes: a tree
    assert vis.JOINT_NAMES[0] == "hip center" and vis.JOINT_NAMES[20] == "spine top"


# ---------------------------------------------------------------------------
# 2D grid
# ---------------------------------------------------------------------------


def test_gesture_grid_has_a_column_per_class_and_k_plus_3_rows():
    num_classes, k = 3, 4
    gen = circles(num_classes, k)
    fig = vis.gesture_grid_figure(gen[:, 0], gen, circles(num_classes, 5, seed=1), ["a", "b", "c"])
    assert len(fig.axes) == num_classes * (k + 3)
    specs = [ax.get_subplotspec() for ax in fig.axes]
    assert {s.colspan.start for s in specs} == set(range(num_classes))
    assert {s.rowspan.start for s in specs} == set(range(k + 3))
    titles = [ax.get_title() for ax in fig.axes if ax.get_subplotspec().rowspan.start == 0]
    assert titles == ["a", "b", "c"]
    assert all(not ax.get_xticks().size and not ax.get_yticks().size for ax in fig.axes)
    overlay_row = [ax for ax in fig.axes if ax.get_subplotspec().rowspan.start == k + 1]
    assert all(len(ax.collections[0].get_segments()) == k for ax in overlay_row)


def test_gesture_grid_png_has_red_and_black_pixels_and_size_matches_dpi(tmp_path):
    gen = circles(2, 3)
    fig = vis.gesture_grid_figure(gen[:, 0], gen, gen, ["a", "b"])
    path = vis.save_figure(fig, tmp_path / "grid.png", dpi=60)
    width, height = fig.get_size_inches() * 60
    pixels = png_pixels(path)
    assert abs(pixels.shape[0] - height) <= 1 and abs(pixels.shape[1] - width) <= 1
    assert pixels.shape[0] > 300 and pixels.shape[1] > 100
    r, g, b = (pixels[..., i].astype(int) for i in range(3))
    assert ((r > 200) & (g < 60) & (b < 60)).sum() > 50  # the real example row
    assert ((r < 50) & (g < 50) & (b < 50)).sum() > 50  # generated rows


def test_gesture_grid_flips_y_and_marks_the_first_point():
    t = np.linspace(0, 1, N)
    down = np.stack([0.2 * t, t], axis=-1)  # pen moving down the screen (y grows down)
    fig = vis.gesture_grid_figure(down[None], down[None, None], down[None, None], ["down"])
    line, dot = fig.axes[0].lines[:2]
    y = line.get_ydata()
    assert y[0] > y[-1]  # drawn top to bottom
    assert dot.get_marker() == "o" and dot.get_ydata()[0] == y[0]


def test_each_grid_panel_fits_its_own_sample():
    small, large = circles(1, 1, radius=0.01), circles(1, 1, radius=50.0)
    gen = np.concatenate([small, large], axis=1)  # K = 2: one tiny, one huge
    fig = vis.gesture_grid_figure(small[:, 0], gen, gen, ["a"])
    spans = [np.diff(ax.get_xlim())[0] for ax in fig.axes[1:3]]
    assert spans[0] < 0.5 and spans[1] > 100
    for ax in fig.axes:
        assert ax.get_aspect() == 1.0
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        box = ax.get_position()
        width, height = fig.get_size_inches()
        # Equal aspect: data units per inch are the same on x and y.
        assert (x1 - x0) / (box.width * width) == pytest.approx((y1 - y0) / (box.height * height))


def test_gesture_grid_rejects_mismatched_inputs():
    gen = circles(2, 3)
    with pytest.raises(ValueError, match="classes"):
        vis.gesture_grid_figure(gen[:, 0], gen, gen, ["only one"])
    with pytest.raises(ValueError, match="features"):
        vis.gesture_grid_figure(gen[:, 0], np.zeros((2, 3, N, 3)), gen, ["a", "b"])


# ---------------------------------------------------------------------------
# Skeletons
# ---------------------------------------------------------------------------


def test_centre_skeletons_moves_the_real_mean_to_the_origin_and_generated_along():
    real = skeleton_sequence(20, offset=(3.0, -2.0, 5.0))
    generated = np.stack([skeleton_sequence(20, offset=(3.5, -2.0, 5.0))])
    real_joints, gen_joints = vis.centre_skeletons(real, generated)
    assert real_joints.shape == (20, 21, 3) and gen_joints.shape == (1, 20, 21, 3)
    np.testing.assert_allclose(real_joints.mean(axis=(0, 1)), 0.0, atol=1e-12)
    np.testing.assert_allclose(gen_joints.mean(axis=(0, 1, 2)), [0.5, 0.0, 0.0], atol=1e-12)


def test_skeleton_strip_draws_centred_bones_of_evenly_spaced_frames():
    num_classes, k, n, frames = 2, 3, 25, 5
    real = np.stack([skeleton_sequence(n, offset=(10.0 * c, 4.0, 2.0)) for c in range(num_classes)])
    generated = np.stack([np.stack([skeleton_sequence(n, (10.0 * c + 0.1 * i, 4.0, 2.0), 0.3 * i)
                                    for i in range(k)]) for c in range(num_classes)])
    fig = vis.skeleton_strip_figure(real, generated, ["x", "y"], num_frames=frames)
    assert len(fig.axes) == num_classes * frames
    wanted_times = [0, 6, 12, 18, 24]
    assert [ax.get_title() for ax in fig.axes[:frames]] == [f"t = {t}" for t in wanted_times]
    for c in range(num_classes):
        real_joints, _ = vis.centre_skeletons(real[c], generated[c])
        expected = vis.bone_segments(real_joints)
        for col, t in enumerate(wanted_times):
            ax = fig.axes[c * frames + col]
            by_size = {len(lc.get_segments()): lc for lc in ax.collections
                       if isinstance(lc, LineCollection)}
            real_lc, gen_lc = by_size[len(vis.BONES)], by_size[k * len(vis.BONES)]
            np.testing.assert_allclose(real_lc.get_colors()[0][:3], 0.0)  # black
            np.testing.assert_allclose(np.array(real_lc.get_segments()), expected[t])
            assert len({tuple(colour) for colour in gen_lc.get_colors()}) == k  # distinct
            # Centred: the drawn real skeleton sits around the origin, not at (10 c, 4).
            xmin, xmax = ax.get_xlim()
            assert xmin < 0 < xmax


def test_skeleton_animation_gif_has_one_frame_per_time_step(tmp_path):
    n, k = 12, 3
    real = skeleton_sequence(n, offset=(1.0, 2.0, 3.0))
    generated = np.stack([skeleton_sequence(n, (1.0 + 0.1 * i, 2.0, 3.0), 0.4 * i) for i in range(k)])
    path = vis.save_skeleton_animation(tmp_path / "push.gif", real, generated, "Push", fps=10)
    assert path == tmp_path / "push.gif"
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == n > 1
        assert gif.size[0] > 200 and gif.size[1] > 200
    assert os.listdir(tmp_path) == ["push.gif"]


def test_each_blitted_frame_is_the_whole_figure_drawn_afresh():
    def figure():
        fig = vis._new_figure(3.0, 2.0)
        ax = fig.add_axes((0.1, 0.1, 0.8, 0.7), xlim=(0, 10), ylim=(0, 10))
        ax.set_title("still title")
        line, = ax.plot([], [], lw=3)
        label = ax.text(0.5, 9.0, "")
        return fig, (line, label)

    def show(moving, t):
        moving[0].set_data([2 + t, 3 + t, 7 - t], [2, 4 + t, 7])  # clear of the spines (drawn under it here)
        moving[1].set_text(f"frame {t}")

    fig, moving = figure()
    frames = vis._blitted_frames(fig, moving, lambda t: show(moving, t), 4, dpi=50)
    assert len(frames) == 4 and len({frame.tobytes() for frame in frames}) == 4
    for t, frame in enumerate(frames):  # no trace of the frames before, nothing of the still part missing
        whole, drawn = figure()
        whole.set_dpi(50)
        show(drawn, t)
        whole.canvas.draw()
        expected = np.asarray(whole.canvas.buffer_rgba())
        assert frame.size == (expected.shape[1], expected.shape[0])
        np.testing.assert_array_equal(np.asarray(frame), expected)


def test_skeleton_functions_reject_non_skeleton_data(tmp_path):
    with pytest.raises(ValueError, match="63"):
        vis.skeleton_strip_figure(np.zeros((1, N, 60)), np.zeros((1, 2, N, 60)), ["a"])
    with pytest.raises(ValueError, match="63"):
        vis.save_skeleton_animation(tmp_path / "a.gif", np.zeros((N, 63)), np.zeros((N, 63)), "a")


# ---------------------------------------------------------------------------
# samples_figure: any D
# ---------------------------------------------------------------------------


def test_samples_figure_for_pen_data_is_a_grid_of_real_then_generated():
    gen = circles(3, 4)
    fig = vis.samples_figure(gen, gen[:, :2], ["a", "b", "c"])
    assert len(fig.axes) == 3 * (4 + 1)
    red_lines = [ax.lines[0] for ax in fig.axes if ax.lines[0].get_color() == "red"]
    assert len(red_lines) == 3  # one real example per class


def test_samples_figure_for_skeletons_is_a_strip():
    real = skeleton_sequence(16)[None, None]
    fig = vis.samples_figure(np.repeat(real, 2, axis=1), real, ["push"])
    assert len(fig.axes) == 8
    assert fig.axes[0].get_title() == "t = 0"


def test_samples_figure_for_other_data_draws_feature_curves(tmp_path):
    num_classes, k, d = 3, 4, 5
    generated = random_walks((num_classes, k, N, d))
    real = random_walks((num_classes, 2, N, d), seed=1)
    fig = vis.samples_figure(generated, real, ["a", "b", "c"])
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == num_classes
    for c, ax in enumerate(panels):
        (curves,) = ax.collections
        assert len(curves.get_segments()) == k * d  # every generated feature
        assert len(ax.lines) == d  # the real sample, one line per feature
        np.testing.assert_allclose(ax.lines[0].get_ydata(), real[c, 0, :, 0])
        low, high = ax.get_ylim()
        assert low <= generated[c].min() and high >= generated[c].max()
    assert png_pixels(vis.save_figure(fig, tmp_path / "d5.png")).shape[1] > 300


def test_samples_figure_for_3d_paths_says_which_are_real(tmp_path):
    generated = random_walks((2, 3, N, 3))
    fig = vis.samples_figure(generated, generated[:, :1], ["a", "b"], title="run · epoch 1")
    assert {t.get_text() for t in fig.texts} == {"run · epoch 1", vis.PATHS_LEGEND}
    assert all(ax.lines[-1].get_color() == "black" for ax in fig.axes)  # the real path drawn last, in black
    assert png_pixels(vis.save_figure(fig, tmp_path / "paths.png")).shape[1] > 300


def test_samples_figure_rejects_mismatched_real():
    with pytest.raises(ValueError, match="does not match"):
        vis.samples_figure(np.zeros((2, 3, N, 5)), np.zeros((2, 1, N, 4)), ["a", "b"])


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def test_figure_to_array_is_rgb_uint8_of_figsize_times_dpi():
    gen = circles(2, 2)
    fig = vis.samples_figure(gen, gen, ["a", "b"])
    image = vis.figure_to_array(fig)
    width, height = fig.get_size_inches() * fig.dpi
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert abs(image.shape[0] - height) <= 1 and abs(image.shape[1] - width) <= 1
    assert image.min() < 50 and image.max() == 255  # lines on a white background


def test_save_figure_is_atomic_and_replaces_an_existing_file(tmp_path):
    gen = circles(1, 1)
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")
    path = vis.save_figure(vis.samples_figure(gen, gen, ["a"]), str(target), dpi=40)
    assert path == target and os.listdir(tmp_path) == ["fig.png"]
    with Image.open(path) as image:
        assert image.format == "PNG"


def test_failed_save_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    gen = circles(1, 1)
    fig = vis.samples_figure(gen, gen, ["a"])
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        vis.save_figure(fig, target)
    assert os.listdir(tmp_path) == ["fig.png"] and target.read_bytes() == b"old"


def test_saving_into_a_missing_folder_names_the_folder(tmp_path):
    gen = circles(1, 1)
    missing = tmp_path / "no" / "such"
    with pytest.raises(UserError, match="does not exist"):
        vis.save_figure(vis.samples_figure(gen, gen, ["a"]), missing / "fig.png")
    real = skeleton_sequence(4)
    with pytest.raises(UserError, match=str(missing)):
        vis.save_skeleton_animation(missing / "a.gif", real, real[None], "a")
    assert os.listdir(tmp_path) == []


def test_the_figures_say_which_drawings_are_real_and_which_generated():
    gen = circles(2, 3)
    grid = vis.gesture_grid_figure(gen[:, 0], gen, gen, ["left_sq_bracket", "b"])
    assert [t.get_text() for t in grid.texts] == ["red: real samples  ·  black: generated samples"]
    titles = [ax.get_title() for ax in grid.axes if ax.get_subplotspec().rowspan.start == 0]
    assert titles == ["left sq bracket", "b"]
    assert all(ax.title.get_fontsize() >= 9 and ax.yaxis.label.get_fontsize() >= 9 for ax in grid.axes[:2])
    real = np.stack([skeleton_sequence(10, offset=(0.0, 4.0, 2.0))])
    strip = vis.skeleton_strip_figure(real, real[:, None], ["duck"], num_frames=3)
    assert [t.get_text() for t in strip.texts] == [f"{vis.SKELETON_LEGEND}  ·  front view (x-y)"]
    titled = vis.skeleton_strip_figure(real, real[:, None], ["duck"], num_frames=3, skeleton=vis.HAND, title="model X")
    assert [t.get_text() for t in titled.texts] == [f"model X  ·  {vis.SKELETON_LEGEND}  ·  top view (x-z)"]
    assert "real" in vis.SKELETON_LEGEND and "generated" in vis.SKELETON_LEGEND


def test_the_hand_is_drawn_from_above_with_its_own_bones():
    """The Leap Motion hand: 21 joints, every one on a bone, each bone's ends taken from the x-z plane."""
    assert vis.HAND.num_joints == 21 and vis.HAND.features == 63
    assert {j for bone in vis.HAND.bones for j in bone} == set(range(21)) and len(set(vis.HAND.bones)) == 21
    joints = np.arange(21 * 3, dtype=float).reshape(21, 3)
    segments = vis.bone_segments(joints, vis.HAND)
    assert segments.shape == (21, 2, 2)
    a, b = vis.HAND.bones[5]
    np.testing.assert_array_equal(segments[5], [joints[a, [0, 2]], joints[b, [0, 2]]])
    body = vis.bone_segments(joints, vis.BODY)
    a, b = vis.BODY.bones[5]
    np.testing.assert_array_equal(body[5], [joints[a, :2], joints[b, :2]])


def test_samples_figure_draws_the_skeleton_it_is_given():
    real = np.stack([skeleton_sequence(6)])
    fig = vis.samples_figure(real[:, None], real[:, None], ["duck"], skeleton=vis.HAND)
    assert fig.texts[0].get_text().endswith("top view (x-z)")
    assert vis.samples_figure(real[:, None], real[:, None], ["duck"]).texts[0].get_text().endswith("front view (x-y)")
    curves = vis.samples_figure(real[:, None], real[:, None], ["duck"], skeleton=False)
    assert [t.get_text() for t in curves.texts] == ["real: black; generated: faint, a colour per feature"]
