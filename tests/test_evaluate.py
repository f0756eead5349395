"""--evaluate: the figures and GIFs a trained checkpoint's evaluation writes."""

from __future__ import annotations

from PIL import Image

import main
from deepnag import visualize
from tests.conftest import ROOT
from tests.test_loop import DOLLAR, JK, LEAP, _train


def test_evaluate_writes_the_2d_grid(tmp_path, shared_data):
    run = _train(tmp_path, shared_data, *DOLLAR, "--epochs=1")
    assert main.main([f"--evaluate={run / 'checkpoints' / 'checkpoint-best.pt'}"]) == 0
    image = Image.open(run / "evaluation" / "checkpoint-best" / "samples.png")
    assert image.width >= 200 and image.height > 5 * image.width  # 3 columns, 16 + 3 rows


def test_evaluate_writes_gifs_for_skeletons(tmp_path, shared_data):
    run = _train(tmp_path, shared_data, *JK, "--epochs=1")
    out = tmp_path / "figures"
    assert main.main([f"--evaluate={run / 'checkpoints' / 'checkpoint-final.pt'}", f"--output={out}"]) == 0
    for name in ("duck", "push"):
        gif = Image.open(out / f"{name}.gif")
        assert gif.n_frames == 16 and gif.width > 100
    assert Image.open(out / "samples.png").width > 100


def test_evaluate_draws_leap_motion_samples_as_hands(tmp_path, shared_data, monkeypatch):
    """A PNG strip and a GIF per class (and the training's TensorBoard figure), drawn as hands from above."""
    drawn = []
    strip, animation = visualize.skeleton_strip_figure, visualize.save_skeleton_animation
    monkeypatch.setattr(visualize, "skeleton_strip_figure", lambda *a, **k: drawn.append(k["skeleton"]) or strip(*a, **k))
    monkeypatch.setattr(visualize, "save_skeleton_animation",
                        lambda *a, **k: drawn.append(k["skeleton"]) or animation(*a, **k))
    run = _train(tmp_path, shared_data, *LEAP, "--epochs=1")
    out = tmp_path / "figures"
    assert main.main([f"--evaluate={run / 'checkpoints' / 'checkpoint-final.pt'}", f"--output={out}"]) == 0
    for name in ("love", "knock_x3"):
        assert Image.open(out / f"{name}.gif").n_frames == 16
    assert Image.open(out / "samples.png").width > 100
    assert drawn == [visualize.HAND] * 4  # TensorBoard's figure of epoch 1, the strip, two GIFs


def test_a_shipped_model_is_evaluated_under_logs_not_into_its_folder(tmp_path, shared_data):
    shipped = ROOT / "pretrained_models" / "DeepNAG" / "dollar-gds" / "generator.pt"
    before = sorted(p.name for p in shipped.parent.iterdir())
    logdir = tmp_path / "logs"
    assert main.main([f"--evaluate={shipped}", f"--datapath={shared_data}", f"--logdir={logdir}"]) == 0
    assert (logdir / "evaluation" / "DeepNAG-dollar-gds-generator" / "samples.png").is_file()
    assert sorted(p.name for p in shipped.parent.iterdir()) == before


def test_each_checkpoint_and_model_evaluates_into_its_own_folder_with_a_title(tmp_path, shared_data, monkeypatch):
    """Two checkpoints of one run, or two shipped models of one data set, never share (and overwrite) figures."""
    titles = []
    grid = visualize.gesture_grid_figure
    monkeypatch.setattr(visualize, "gesture_grid_figure", lambda *a, **k: titles.append(k["title"]) or grid(*a, **k))
    run = _train(tmp_path, shared_data, *DOLLAR, "--epochs=2")
    for name in ("checkpoint-best.pt", "checkpoint-final.pt"):
        assert main.main([f"--evaluate={run / 'checkpoints' / name}"]) == 0
    assert sorted(p.name for p in (run / "evaluation").iterdir()) == ["checkpoint-best", "checkpoint-final"]
    assert titles[-1] == "DeepNAG on dollar-gds  ·  checkpoint-final.pt, epoch 2"
    logdir = tmp_path / "logs"
    for model in ("DeepNAG", "DeepGAN"):
        shipped = ROOT / "pretrained_models" / model / "dollar-gds" / "generator.pt"
        assert main.main([f"--evaluate={shipped}", f"--datapath={shared_data}", f"--logdir={logdir}"]) == 0
    assert sorted(p.name for p in (logdir / "evaluation").iterdir()) == ["DeepGAN-dollar-gds-generator",
                                                                         "DeepNAG-dollar-gds-generator"]
    assert titles[-1].startswith("DeepGAN on dollar-gds  ·  generator.pt, epoch ")
