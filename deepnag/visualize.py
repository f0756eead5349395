"""Figures and animations of real and generated gestures (METHOD.md §6).

Pure functions over NumPy arrays in the data's units; nothing here needs torch.
Figures are built with matplotlib's object API (`Figure` + `FigureCanvasAgg`), so
they never open a window and work headless; nothing touches pyplot's global state.

- 2D pen gestures: `gesture_grid_figure`, a column per class (the reference's grid);
  multistroke ones ((n, 3): x, y, pen state, as MMG's) drawn stroke by stroke,
  no line across a pen-up (`stroke_lines`).
- 3D Kinect skeletons (21 joints x (x, y, z) = 63 features per time step):
  `skeleton_strip_figure` (frames side by side) and `save_skeleton_animation`
  (a GIF per class), front view (x-y), centred on the real sample's mean.
- `samples_figure`: what the trainer logs every vis-frequency epochs, for any D.
- `save_figure` / `figure_to_array`: atomic PNG files and arrays for TensorBoard.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from PIL import Image

from deepnag.atomic import atomic_write_path, writable_folder
from deepnag.data.mmg import strokes_of
from deepnag.data.preprocessing import is_pen_data

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# The JK2017 skeletons: a Kinect body and a Leap Motion hand, 21 joints each
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Skeleton:
    """How to draw one kind of skeleton: its joints, its bones (pairs of joint indices) and its view."""

    joint_names: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]
    view: tuple[int, int] = (0, 1)  # the coordinates drawn across and up: x-y is a front view
    view_name: str = "front view (x-y)"

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def features(self) -> int:
        return 3 * self.num_joints  # (x, y, z) per joint, flattened per time step


JOINT_NAMES: tuple[str, ...] = (
    "hip center", "spine center", "neck", "head",
    "shoulder L", "elbow L", "wrist L", "hand L",
    "shoulder R", "elbow R", "wrist R", "hand R",
    "hip L", "knee L", "ankle L", "foot L",
    "hip R", "knee R", "ankle R", "foot R",
    "spine top",
)  # fmt: skip
BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 20), (20, 2), (2, 4), (2, 8), (4, 5), (8, 9), (5, 6), (9, 10), (6, 7),
    (10, 11), (2, 3), (0, 12), (0, 16), (12, 13), (16, 17), (13, 14), (17, 18), (14, 15),
    (18, 19),
)  # fmt: skip
BODY = Skeleton(JOINT_NAMES, BONES)
"""The JK2017 Kinect body (a tree of 20 bones), seen from the front."""

HAND_JOINT_NAMES: tuple[str, ...] = (
    "palm", "wrist",
    "thumb base", "thumb middle", "thumb tip",
    "index knuckle", "index middle", "index upper", "index tip",
    "middle knuckle", "middle middle", "middle upper", "middle tip",
    "ring knuckle", "ring middle", "ring upper", "ring tip",
    "pinky knuckle", "pinky middle", "pinky upper", "pinky tip",
)  # fmt: skip
HAND_BONES: tuple[tuple[int, int], ...] = (
    (1, 0), (1, 2), (2, 3), (3, 4),
    (1, 5), (5, 6), (6, 7), (7, 8),
    (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16),
    (13, 17), (1, 17), (17, 18), (18, 19), (19, 20),
)  # fmt: skip
HAND = Skeleton(HAND_JOINT_NAMES, HAND_BONES, view=(0, 2), view_name="top view (x-z)")
"""The JK2017 Leap Motion hand: the palm's outline (wrist, knuckles) and each finger's chain, seen from above
(the sensor's x-z plane, where a hand held flat over it shows all five fingers). The joint order was read off
the data: the palm's six points keep their distances in every frame, the fingers' chains bend."""

SKELETONS = {"body": BODY, "hand": HAND}
"""The drawings by the name a data set gives its skeleton (`deepnag.data.SKELETON_FIGURES`)."""


def skeleton_of(dataset: str) -> Skeleton | None:
    """The skeleton a data set's samples are drawn as, or None for paths and curves."""
    from deepnag.data import SKELETON_FIGURES

    figure = SKELETON_FIGURES.get(dataset)
    return SKELETONS[figure] if figure else None


NUM_JOINTS = BODY.num_joints  # 21 for both skeletons
SKELETON_FEATURES = BODY.features  # 63: what `samples_figure` draws as a body when told nothing

# ---------------------------------------------------------------------------
# Look
# ---------------------------------------------------------------------------

REAL_2D_COLOR = "red"  # the real example row of the 2D grid
GENERATED_2D_COLOR = "black"
REAL_3D_COLOR = "black"  # the real skeleton
FAINT_ALPHA = 0.3  # overlays and generated skeletons
_CELL_INCHES = 1.0  # one panel of the 2D grid
_MARGIN = 0.08  # fraction of a sample's extent left around it


def _distinct_colors(k: int) -> np.ndarray:
    """(k, 4) RGBA colours, distinct for up to 10 (tab10, cycled beyond)."""
    return colormaps["tab10"](np.arange(k) % 10)


def _new_figure(width: float, height: float) -> Figure:
    """A figure bound to the Agg canvas: renders headless, never opens a window."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _grid_axes(fig: Figure, rows: int, cols: int, left: float, right: float,
               top: float, bottom: float, space: float) -> np.ndarray:
    """A (rows, cols) array of tick-less axes with margins given in inches."""
    width, height = fig.get_size_inches()
    return fig.subplots(
        rows, cols, squeeze=False,
        subplot_kw={"xticks": [], "yticks": []},
        gridspec_kw={
            "left": left / width, "right": 1 - right / width,
            "top": 1 - top / height, "bottom": bottom / height,
            "wspace": space, "hspace": space,
        },
    )  # fmt: skip


def _fit_equal(ax: Axes, points: np.ndarray, margin: float = _MARGIN) -> None:
    """Set limits that fit `points` (..., 2) with equal aspect in the axes' box.

    Limits are widened along one axis to the box's own aspect ratio, so no
    autoscaling is needed (which is slow and fights fixed limits).
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    else:
        lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo + hi) / 2
    half = np.maximum((hi - lo) / 2 * (1 + 2 * margin), 1e-6 + 1e-3 * np.abs(centre).max())
    pos = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    box_ratio = (pos.height * fig_h) / (pos.width * fig_w)  # height / width of the box
    half_x = max(half[0], half[1] / box_ratio)
    half_y = half_x * box_ratio
    ax.set_xlim(centre[0] - half_x, centre[0] + half_x)
    ax.set_ylim(centre[1] - half_y, centre[1] + half_y)
    ax.set_aspect("equal", adjustable="box")


def _check_shape(name: str, array: np.ndarray, ndim: int, last: int | None = None) -> np.ndarray:
    """`array` as float, with a clear message when its rank or feature size is wrong."""
    array = np.asarray(array, dtype=float)
    if array.ndim != ndim or (last is not None and array.shape[-1] != last):
        want = f"{ndim} dimensions" + (f" with {last} features last" if last is not None else "")
        raise ValueError(f"{name} must have {want}, got shape {array.shape}")
    return array


def _check_classes(class_names: Sequence[str], count: int) -> None:
    """Every class of the arrays needs a name (and no more)."""
    if len(class_names) != count:
        raise ValueError(f"{len(class_names)} class names given for {count} classes")


# ---------------------------------------------------------------------------
# 2D pen gestures
# ---------------------------------------------------------------------------


def _flip_y(samples: np.ndarray) -> np.ndarray:
    """Pen data has y growing down; negate it so gestures appear upright (a pen state, the third feature, is kept)."""
    return samples * np.array([1.0, -1.0, 1.0][:samples.shape[-1]])


def stroke_lines(samples: np.ndarray) -> list[np.ndarray]:
    """The polylines that draw gestures (..., n, 2) or (..., n, 3): one per gesture, or with a pen state one per
    stroke (split where the pen state is below 0.5), so nothing is drawn across a pen-up."""
    samples = np.asarray(samples, dtype=float)
    flat = samples.reshape(-1, *samples.shape[-2:])
    if samples.shape[-1] == 2:
        return list(flat)
    return [stroke for sample in flat for stroke in strokes_of(sample)]


def _draw_single(ax: Axes, sample: np.ndarray, color: str) -> None:
    """One gesture (n, 2), or (n, 3) stroke by stroke, as polylines with a dot on its first point, fit to the panel."""
    for line in stroke_lines(sample):
        ax.plot(line[:, 0], line[:, 1], color=color, linewidth=1.2)
    ax.plot(sample[:1, 0], sample[:1, 1], "o", color=color, markersize=3)
    _fit_equal(ax, sample[:, :2])


def _draw_overlay(ax: Axes, samples: np.ndarray, color: str) -> None:
    """Many gestures (K, n, 2) or (K, n, 3) faintly on top of each other, first points marked."""
    ax.add_collection(LineCollection(stroke_lines(samples), colors=color, linewidths=0.8, alpha=FAINT_ALPHA))
    ax.plot(samples[:, 0, 0], samples[:, 0, 1], "o", color=color, markersize=2, alpha=FAINT_ALPHA)
    _fit_equal(ax, samples[..., :2])


GRID_LEGEND = f"{REAL_2D_COLOR}: real samples  ·  {GENERATED_2D_COLOR}: generated samples"
SKELETON_LEGEND = "black: a real skeleton  ·  colours: generated skeletons"
PATHS_LEGEND = "black: a real path (the dot: its start)  ·  colours: generated paths"
LABEL_FONT = 9  # points: readable at the figures' 100 dpi


def _legend(fig: Figure, text: str) -> None:
    """One line at the top of a figure saying which drawings are real and which generated."""
    fig.text(0.5, 1 - 0.08 / fig.get_figheight(), text, ha="center", va="top", fontsize=LABEL_FONT + 1)


def _gesture_grid(columns: Sequence[Sequence[tuple[str, str, np.ndarray]]],
                  row_labels: Sequence[str], class_names: Sequence[str], title: str = "") -> Figure:
    """Grid with a column per class; each cell is ("single"|"overlay", color, data)."""
    rows, cols = len(row_labels), len(class_names)
    left, top, space = 0.75, 0.6, 0.08
    fig = _new_figure(left + cols * _CELL_INCHES * (1 + space) + 0.1,
                      top + rows * _CELL_INCHES * (1 + space) + 0.1)
    axes = _grid_axes(fig, rows, cols, left=left, right=0.1, top=top, bottom=0.1, space=space)
    for c, cells in enumerate(columns):
        axes[0, c].set_title(class_names[c].replace("_", " "), fontsize=LABEL_FONT)
        for r, (kind, color, data) in enumerate(cells):
            (_draw_single if kind == "single" else _draw_overlay)(axes[r, c], data, color)
    for r, label in enumerate(row_labels):
        axes[r, 0].set_ylabel(label, fontsize=LABEL_FONT)
    _legend(fig, f"{title}  ·  {GRID_LEGEND}" if title else GRID_LEGEND)
    return fig


def gesture_grid_figure(real_examples: np.ndarray, generated: np.ndarray,
                        real_pool: np.ndarray, class_names: Sequence[str], title: str = "") -> Figure:
    """The reference's 2D figure (METHOD.md §6): per class a real example (red), K generated, and two faint overlays.

    real_examples (C, n, 2), generated (C, K, n, 2), real_pool (C, R, n, 2); rows are the
    real example, the K generated samples, all K overlaid, the R real samples overlaid. Multistroke gestures
    ((..., n, 3): x, y, pen state) are drawn stroke by stroke.
    """
    real_examples = _check_shape("real_examples", real_examples, 3)
    if real_examples.shape[-1] not in (2, 3):
        raise ValueError(f"real_examples must have 2 features (x, y) or 3 (x, y, pen state), got {real_examples.shape}")
    generated = _check_shape("generated", generated, 4, real_examples.shape[-1])
    real_pool = _check_shape("real_pool", real_pool, 4, real_examples.shape[-1])
    num_classes = len(class_names)
    for name, array in (("real_examples", real_examples), ("generated", generated),
                        ("real_pool", real_pool)):
        if array.shape[0] != num_classes:
            raise ValueError(f"{name} has {array.shape[0]} classes, class_names {num_classes}")
    real_examples, generated, real_pool = map(_flip_y, (real_examples, generated, real_pool))
    k = generated.shape[1]
    columns = [
        [("single", REAL_2D_COLOR, real_examples[c])]
        + [("single", GENERATED_2D_COLOR, generated[c, i]) for i in range(k)]
        + [("overlay", GENERATED_2D_COLOR, generated[c]), ("overlay", REAL_2D_COLOR, real_pool[c])]
        for c in range(num_classes)
    ]
    labels = ["real"] + [f"gen {i + 1}" for i in range(k)] + ["all gen", "real pool"]
    return _gesture_grid(columns, labels, class_names, title)


# ---------------------------------------------------------------------------
# 3D skeletons
# ---------------------------------------------------------------------------


def centre_skeletons(real: np.ndarray, generated: np.ndarray,
                     skeleton: Skeleton = BODY) -> tuple[np.ndarray, np.ndarray]:
    """Joints (…, n, 21, 3) of real (n, 63) and generated (K, n, 63), shifted so the real mean is 0.

    The shift is the mean of the real sample over frames and joints, per axis; the
    generated skeletons move by the same amount so their offset stays visible.
    """
    real = _check_shape("real", real, 2, skeleton.features).reshape(-1, skeleton.num_joints, 3)
    generated = _check_shape("generated", generated, 3, skeleton.features)
    generated = generated.reshape(generated.shape[0], generated.shape[1], skeleton.num_joints, 3)
    mean = real.mean(axis=(0, 1))
    return real - mean, generated - mean


def bone_segments(joints: np.ndarray, skeleton: Skeleton = BODY) -> np.ndarray:
    """The bones (…, bones, 2, 2) of joints (…, 21, 3) in the skeleton's view, for a LineCollection."""
    seen = joints[..., list(skeleton.view)]
    ends = np.array(skeleton.bones)
    return np.stack([seen[..., ends[:, 0], :], seen[..., ends[:, 1], :]], axis=-2)


def _skeleton_collections(ax: Axes, colors: np.ndarray, skeleton: Skeleton) -> tuple[LineCollection, LineCollection]:
    """Empty collections for the generated skeletons (faint, one colour each) and the real one."""
    per_bone = np.repeat(colors, len(skeleton.bones), axis=0)
    generated = LineCollection([], colors=per_bone, linewidths=1.5, alpha=FAINT_ALPHA + 0.2)
    real = LineCollection([], colors=REAL_3D_COLOR, linewidths=2.0)
    ax.add_collection(generated)
    ax.add_collection(real)  # drawn last, on top
    return generated, real


def skeleton_strip_figure(real: np.ndarray, generated: np.ndarray, class_names: Sequence[str], num_frames: int = 8,
                          skeleton: Skeleton = BODY, title: str = "") -> Figure:
    """A row per class of `num_frames` evenly spaced frames: real skeleton black, generated faint.

    real (C, n, 63), generated (C, K, n, 63); front view, centred on each real sample's
    mean; one set of limits per row so motion between frames shows.
    """
    real = _check_shape("real", real, 3, skeleton.features)
    generated = _check_shape("generated", generated, 4, skeleton.features)
    _check_classes(class_names, real.shape[0])
    if generated.shape[0] != real.shape[0]:
        raise ValueError(f"generated has {generated.shape[0]} classes, real {real.shape[0]}")
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    num_classes, k = real.shape[0], generated.shape[1]
    cell, left, top = 1.3, 0.5, 0.6
    fig = _new_figure(left + num_frames * cell + 0.1, top + num_classes * cell + 0.1)
    axes = _grid_axes(fig, num_classes, num_frames, left=left, right=0.1, top=top, bottom=0.1,
                      space=0.05)
    colors = _distinct_colors(k)
    for c in range(num_classes):
        real_joints, gen_joints = centre_skeletons(real[c], generated[c], skeleton)
        real_bones, gen_bones = bone_segments(real_joints, skeleton), bone_segments(gen_joints, skeleton)
        length = min(len(real_bones), gen_bones.shape[1])
        frames = np.unique(np.linspace(0, length - 1, num_frames).round().astype(int))
        extent = np.concatenate([real_bones[frames].reshape(-1, 2), gen_bones[:, frames].reshape(-1, 2)])
        for col, ax in enumerate(axes[c]):
            if col >= len(frames):  # fewer frames than panels
                ax.set_axis_off()
                continue
            t = frames[col]
            gen_lc, real_lc = _skeleton_collections(ax, colors, skeleton)
            gen_lc.set_segments(gen_bones[:, t].reshape(-1, 2, 2))
            real_lc.set_segments(real_bones[t])
            _fit_equal(ax, extent)
            if c == 0:
                ax.set_title(f"t = {t}", fontsize=LABEL_FONT)
        axes[c, 0].set_ylabel(class_names[c], fontsize=LABEL_FONT)
    _legend(fig, "  ·  ".join(filter(None, (title, SKELETON_LEGEND, skeleton.view_name))))
    return fig


def _checked_output(path: str | Path) -> Path:
    """`path` as a Path, or a UserError naming its folder when that folder is missing or not writable."""
    path = Path(path)
    writable_folder(path.parent, "create it or choose another output", target=path)
    return path


def _atomic_write(path: str | Path, suffix: str, write: Callable[[str], None]) -> Path:
    """Write through a temporary file beside `path` (whose folder must exist), renamed over it when complete."""
    path = atomic_write_path(_checked_output(path), write, suffix)
    log.debug("wrote %s", path)
    return path


def save_skeleton_animation(path: str | Path, real: np.ndarray, generated: np.ndarray,
                            title: str, fps: int = 15, skeleton: Skeleton = BODY) -> Path:
    """Write a GIF of one class: the real skeleton (n, 63) in black, generated (K, n, 63) faint.

    In the skeleton's view, centred on the real mean, fixed limits over the whole animation; one
    GIF frame per time step.
    """
    path = _checked_output(path)  # before any drawing work
    real_joints, gen_joints = centre_skeletons(real, generated, skeleton)
    real_bones, gen_bones = bone_segments(real_joints, skeleton), bone_segments(gen_joints, skeleton)
    length = min(len(real_bones), gen_bones.shape[1])
    lines = [*title.split("\n"), SKELETON_LEGEND, skeleton.view_name]  # one short line each: the GIF is narrow
    fig = _new_figure(4.4, 4.2 + 0.17 * len(lines))
    ax = fig.add_axes((0.02, 0.02, 0.96, 1 - (0.12 + 0.17 * len(lines)) / fig.get_figheight()), xticks=[], yticks=[])
    ax.set_title("\n".join(lines), fontsize=LABEL_FONT - 1)
    gen_lc, real_lc = _skeleton_collections(ax, _distinct_colors(gen_bones.shape[0]), skeleton)
    _fit_equal(ax, np.concatenate([real_bones[:length].reshape(-1, 2),
                                   gen_bones[:, :length].reshape(-1, 2)]))
    clock = ax.text(0.02, 0.98, "", transform=ax.transAxes, va="top", fontsize=8)

    def show(t: int) -> None:
        gen_lc.set_segments(gen_bones[:, t].reshape(-1, 2, 2))
        real_lc.set_segments(real_bones[t])
        clock.set_text(f"{t + 1}/{length}")  # also keeps GIF frames distinct

    frames = _blitted_frames(fig, (gen_lc, real_lc, clock), show, length, dpi=80)
    return _atomic_write(path, ".gif", lambda temp: frames[0].save(
        temp, format="GIF", save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0))


def _blitted_frames(fig: Figure, moving: Sequence[Artist], show: Callable[[int], None], count: int,
                    dpi: float) -> list[Image.Image]:
    """The `count` frames of an animation as images: the still parts drawn once, then per frame only `moving`
    (after `show(t)` has set them) over a copy of them, matplotlib's blitting. Redrawing every frame whole, as
    `FuncAnimation.save` does, spent most of its time on the same title and labels again (8 s a skeleton GIF)."""
    fig.set_dpi(dpi)
    canvas = fig.canvas
    for artist in moving:
        artist.set_animated(True)  # left out of the still drawing
    canvas.draw()
    still = canvas.copy_from_bbox(fig.bbox)
    frames = []
    for t in range(count):
        canvas.restore_region(still)
        show(t)
        for artist in moving:
            fig.draw_artist(artist)
        frames.append(Image.frombuffer("RGBA", canvas.get_width_height(), bytes(canvas.buffer_rgba())))
    return frames


# ---------------------------------------------------------------------------
# Any data: what the trainer logs
# ---------------------------------------------------------------------------


def _curves_figure(generated: np.ndarray, real: np.ndarray, class_names: Sequence[str], title: str = "") -> Figure:
    """A panel per class of every feature over time: generated faint (a colour per feature), real black."""
    num_classes, k, n, d = generated.shape
    cols = min(num_classes, 4)
    rows = -(-num_classes // cols)
    fig = _new_figure(0.3 + cols * 3.0, 0.6 + rows * 2.2)
    fig.suptitle("  ·  ".join(filter(None, (title, "real: black; generated: faint, a colour per feature"))), fontsize=9)
    axes = fig.subplots(rows, cols, squeeze=False)
    feature_colors = np.tile(_distinct_colors(d), (k, 1))  # curve k * D + d has feature d's colour
    time = np.broadcast_to(np.arange(n, dtype=float)[None, :, None], (k, n, d))
    for c, ax in enumerate(axes.flat):
        if c >= num_classes:
            ax.set_axis_off()
            continue
        curves = np.stack([time, generated[c]], axis=-1).transpose(0, 2, 1, 3)  # (K, D, n, 2)
        ax.add_collection(LineCollection(curves.reshape(k * d, n, 2), colors=feature_colors,
                                         linewidths=0.8, alpha=FAINT_ALPHA))
        ax.plot(np.arange(real.shape[2]), real[c, 0], color="black", linewidth=1.0)
        ax.autoscale_view()
        ax.set_title(class_names[c], fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def _lines3d_figure(generated: np.ndarray, real: np.ndarray, class_names: Sequence[str], title: str = "") -> Figure:
    """A 3D panel per class: the real path in black, generated paths faint, one colour each."""
    num_classes, k = generated.shape[:2]
    cols = min(num_classes, 4)
    rows = -(-num_classes // cols)
    fig = _new_figure(0.3 + cols * 3.0, 0.3 + rows * 3.0)
    colors = _distinct_colors(k)
    if title:
        fig.suptitle(title, fontsize=9, y=1 - 0.3 / fig.get_figheight())
    for c in range(num_classes):
        ax = fig.add_subplot(rows, cols, c + 1, projection="3d")
        for g in range(k):
            ax.plot(*generated[c, g].T, color=colors[g], linewidth=0.8, alpha=FAINT_ALPHA)
        ax.plot(*real[c, 0].T, color="black", linewidth=1.2)
        ax.scatter(*real[c, 0, 0], color="black", s=8)
        ax.set_title(class_names[c], fontsize=9)
        ax.tick_params(labelsize=6)
    _legend(fig, PATHS_LEGEND)
    return fig


def samples_figure(generated: np.ndarray, real: np.ndarray, class_names: Sequence[str],
                   skeleton: Skeleton | bool | None = None, title: str = "", pen: bool | None = None) -> Figure:
    """The figure logged during training: generated (C, K, n, D) beside real (C, R, n, D).

    D = 2, or pen data (`pen`, by default when the real samples are: x, y and a pen state of 0 and 1): grid of the
    real example then K generated (pen gestures, stroke by stroke); skeletons
    (`skeleton`: which one, True for the body; by default a body when D = 63): skeleton strip; D = 3: 3D paths; any other D:
    features over time, so arbitrary data can be shown.
    """
    generated = _check_shape("generated", generated, 4)
    real = _check_shape("real", real, 4)
    num_classes, d = generated.shape[0], generated.shape[-1]
    _check_classes(class_names, num_classes)
    if real.shape[0] != num_classes or real.shape[1] < 1 or real.shape[-1] != d:
        raise ValueError(f"real {real.shape} does not match generated {generated.shape}")
    if pen is None:
        pen = d == 3 and is_pen_data(list(real.reshape(-1, *real.shape[2:])))
    if d == 2 or pen:
        real_examples, generated = _flip_y(real[:, 0]), _flip_y(generated)
        columns = [[("single", REAL_2D_COLOR, real_examples[c])]
                   + [("single", GENERATED_2D_COLOR, g) for g in generated[c]]
                   for c in range(num_classes)]
        labels = ["real"] + [f"gen {i + 1}" for i in range(generated.shape[1])]
        return _gesture_grid(columns, labels, class_names, title)
    if skeleton is None or skeleton is True:
        skeleton = BODY if skeleton or d == SKELETON_FEATURES else None
    if skeleton:
        return skeleton_strip_figure(real[:, 0], generated, class_names, skeleton=skeleton, title=title)
    if d == 3:
        return _lines3d_figure(generated, real, class_names, title)
    return _curves_figure(generated, real, class_names, title)


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def save_figure(fig: Figure, path: str | Path, dpi: int = 100) -> Path:
    """Save `fig` as a PNG of figsize * dpi pixels, atomically (temp file, then rename)."""
    return _atomic_write(path, ".png", lambda temp: fig.savefig(temp, format="png", dpi=dpi))


def figure_to_array(fig: Figure) -> np.ndarray:
    """Render `fig` to an (H, W, 3) uint8 RGB array, e.g. for TensorBoard's add_image (HWC)."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def study_figure(study: dict, title: str = "") -> Figure:
    """A held-out study (`deepnag.evaluation.augmentation.study`) as one panel per recogniser: test error against the
    synthetic samples added per class, one line per kind of added samples (mean ± sd over seeds), real alone dashed."""
    panels = [s for s in (study, study.get("learned"), *study.get("more", ())) if s and "rows" in s]
    fig = _new_figure(4.2 * len(panels), 3.6)
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        kinds = list(dict.fromkeys(row["added"] for row in panel["rows"]))
        colors = _distinct_colors(len(kinds))
        for kind, color in zip(kinds, colors):
            rows = sorted((r for r in panel["rows"] if r["added"] == kind), key=lambda r: r["per_class"])
            ax.errorbar([r["per_class"] for r in rows], [r["error"]["mean"] for r in rows],
                        yerr=[r["error"]["sd"] for r in rows], color=color, marker="o", capsize=3, label=kind)
        ax.axhline(panel["real_error"], color="black", linestyle="--", label="real alone")
        ax.set_xscale("log")
        ax.set_xticks(panel["counts"], [str(k) for k in panel["counts"]])
        ax.set_xlabel("synthetic samples added per class")
        ax.set_ylabel("error on held-out writers")
        ax.set_title(f"{panel['recognizer']} ({len(panel['seeds'])} seeds)", fontsize=10)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
