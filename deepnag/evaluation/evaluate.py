"""Visual evaluation of a trained checkpoint (`python main.py --evaluate=CHECKPOINT`).

Model and data set come from the checkpoint. Writes, into `evaluation/` beside
the checkpoint's run (or `--output`): for 2D data the reference's grid (METHOD.md §6) as `samples.png`;
for skeletons one GIF per class and a PNG strip; for other data, feature curves.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import numpy as np
import torch

from deepnag import checkpoint, visualize
from deepnag.actions import ACTIONS
from deepnag.atomic import writable_folder
from deepnag.config import Config, conflict, flag_or_saved
from deepnag.data.batches import GestureData, load_data_for
from deepnag.data.preprocessing import MinMaxNormalizer, is_pen_data
from deepnag.errors import UserError
from deepnag.generate.sampling import generate, load_generator, normalizer_from
from deepnag.models import Generator
from deepnag.progress import Progress
from deepnag.runtime import resolve_device

log = logging.getLogger(__name__)

GENERATED_PER_CLASS = 16  # the reference's 2D grid rows (METHOD.md §6)
ANIMATED_PER_CLASS = 5  # the reference's 3D animations (METHOD.md §6)
EVALUATE_FLAGS = ACTIONS["evaluate"].may_differ or ()
"""Flags that make sense with --evaluate; any other explicit flag must agree with the checkpoint."""


def _check_flags(config: Config, explicit: set[str], saved: Config, source: str) -> None:
    if why := conflict(config, explicit, saved, EVALUATE_FLAGS, source, "--evaluate"):
        raise UserError(why)


def _output_folder(config: Config, source: Path, model: str) -> Path:
    """Where --evaluate writes: --output, else the run's evaluation/<checkpoint>/, else
    --logdir/evaluation/<model>-<model folder>-<checkpoint>/: one folder per checkpoint, so that no two share figures."""
    if config.output:
        folder = Path(config.output)
    elif source.resolve().parent.name == "checkpoints":  # a run's checkpoint: beside the run's other outputs
        folder = source.resolve().parent.parent / "evaluation" / source.stem
    else:  # a shipped or copied model: under --logdir, never into the model's own (perhaps tracked) folder
        folder = Path(config.logdir) / "evaluation" / f"{model}-{source.resolve().parent.name}-{source.stem}"
    return writable_folder(folder, "choose another --output", create=True)


def evaluate(config: Config, explicit: set[str]) -> list[Path]:
    """Draw what a checkpoint's generator learned beside real samples; returns the files written."""
    source = Path(config.evaluate)
    state = checkpoint.load(source, dataset=config.dataset if "dataset" in explicit else None)
    saved = checkpoint.config_of(state)
    _check_flags(config, explicit, saved, str(source))
    device = resolve_device(config.device)
    generator = load_generator(state, str(source), device)
    saved_with_mirror = dataclasses.replace(saved, download_url=config.download_url or saved.download_url)
    data = load_data_for(saved_with_mirror, config.datapath if "datapath" in explicit else None)
    if data.class_names != tuple(state["class_names"]):
        raise UserError(
            f"the {saved.dataset} data found has classes {', '.join(data.class_names)}, but {source} was trained on "
            f"{', '.join(state['class_names'])}"
        )
    folder = _output_folder(config, source, saved.model)
    seed = flag_or_saved(config, explicit, saved, "seed")
    title = f"{saved.model} on {saved.dataset}  ·  {source.name}, epoch {int(state.get('epoch', 0))}"
    written = draw(generator, data, normalizer_from(state), folder, seed, visualize.skeleton_of(saved.dataset), title)
    if config.metrics:
        from deepnag.evaluation import report
        from deepnag.generate.sampling import generate_per_class

        samples, labels = generate_per_class(state, generator, config.num_per_class, seed)
        metrics = report.measure(state, samples, labels, config, explicit, generator, folder / "metrics.json")
        written.append(folder / "metrics.json")
        log.info("quality of %d synthetic samples per class:\n%s", config.num_per_class, report.table(metrics))
    for path in written:
        log.info("wrote %s", path)
    if config.show:
        _show(written)
    return written


def draw(generator: Generator, data: GestureData, normalizer: MinMaxNormalizer, folder: Path, seed: int,
         skeleton: visualize.Skeleton | None = None, title: str = "") -> list[Path]:
    """The reference's evaluation figures (METHOD.md §6) for `generator`, in data units; `title` (model, data set, checkpoint) heads each."""
    c, n, d = data.num_classes, data.seq_len, data.num_features
    k = GENERATED_PER_CLASS
    labels = torch.arange(c).repeat_interleave(k)
    fake = normalizer.inverse(generate(generator, labels, n, seed)).reshape(c, k, n, d)
    real = data.normalizer.inverse(data.samples.numpy())
    by_class = [real[data.labels.numpy() == i] for i in range(c)]
    rng = np.random.default_rng(seed)
    pool = np.stack([cls[rng.choice(len(cls), size=k, replace=len(cls) < k)] for cls in by_class])
    examples = pool[:, 0]
    names = data.display_names
    if d == 2 or is_pen_data(list(examples)):  # pen strokes, multistroke ones (x, y, pen state) stroke by stroke
        fig = visualize.gesture_grid_figure(examples, fake, pool, names, title=title)
        return [visualize.save_figure(fig, folder / "samples.png")]
    if skeleton:
        written = [visualize.save_figure(
            visualize.skeleton_strip_figure(examples, fake[:, :ANIMATED_PER_CLASS], names, skeleton=skeleton, title=title),
            folder / "samples.png")]
        with Progress(len(data.class_names), "drawing the animations", "classes", log, every=5.0) as progress:
            for i, name in enumerate(data.class_names):
                written.append(visualize.save_skeleton_animation(
                    folder / f"{name}.gif", examples[i], fake[i, :ANIMATED_PER_CLASS],
                    f"{names[i]}\n{title}" if title else names[i], skeleton=skeleton))
                progress.update()
        return written
    fig = visualize.samples_figure(fake, pool, names, skeleton=False, title=title)
    return [visualize.save_figure(fig, folder / "samples.png")]


def _show(paths: list[Path]) -> None:
    """Open the PNGs in a window when a display is there; never fail headless."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.name == "nt"):
        log.warning("--show: no display found; the figures are in %s", paths[0].parent)
        return
    try:
        import matplotlib.image as mpimg
        import matplotlib.pyplot as plt

        for path in (p for p in paths if p.suffix == ".png"):
            plt.figure(path.name)
            plt.imshow(mpimg.imread(path))
            plt.axis("off")
        plt.show()
    except Exception as error:  # a broken GUI backend must not lose the written files
        log.warning("--show: could not open a window (%s); the figures are in %s", error, paths[0].parent)
