"""Your own gestures: a folder data set of any dimensionality, end to end."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import main
from deepnag.data import DataFormatError, folder


def _write_dataset(root: Path, features: int, seed: int = 0) -> Path:
    """Three classes of noisy curves, written as CSV (with and without header), NPY and, for 2D, XML."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 30)[:, None]
    shapes = {
        "circle": lambda: np.concatenate([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)] * features, axis=1)[:, :features],
        "line": lambda: np.repeat(t, features, axis=1) * np.arange(1, features + 1),
        "zigzag": lambda: np.concatenate([t, np.abs((t * 4) % 2 - 1)] * features, axis=1)[:, :features],
    }
    for name, make in shapes.items():
        (root / name).mkdir(parents=True)
        for k in range(6):
            sample = make() * 50 + rng.normal(scale=0.5, size=(30, features))
            subject = f"s{k % 3}"
            if k % 3 == 0:
                np.savetxt(root / name / f"{subject}_{k}.csv", sample, delimiter=",",
                           header=",".join(f"x{i}" for i in range(features)), comments="")
            elif k % 3 == 1:
                np.save(root / name / f"{subject}_{k}.npy", sample)
            elif features == 2:
                points = "".join(f'<Point X="{x}" Y="{y}" T="{i}"/>' for i, (x, y) in enumerate(sample))
                (root / name / f"{subject}_{k}.xml").write_text(f'<Gesture Name="{name}{k:02d}">{points}</Gesture>')
            else:
                np.savetxt(root / name / f"{subject}_{k}.csv", sample, delimiter=",")
    return root


@pytest.mark.parametrize("features", [2, 3, 6])
def test_load_train_evaluate_generate(tmp_path, features):
    data = _write_dataset(tmp_path / "mine", features)
    raw = folder.load(data, subject_pattern=r"^(s\d+)_")
    assert raw.class_names == ("circle", "line", "zigzag") and len(raw.sequences) == 18
    assert raw.num_features == features and sorted(set(raw.subjects)) == ["s0", "s1", "s2"]

    logdir = tmp_path / "logs"
    assert main.main(["--dataset=folder", f"--datapath={data}", f"--logdir={logdir}", "--subject-pattern=^(s\\d+)_",
                      "--epochs=2", "--batch-size=6", "--resample-n=16", "--vis-frequency=1"]) == 0
    (run,) = list(logdir.iterdir())
    best = run / "checkpoints" / "checkpoint-best.pt"
    assert main.main([f"--evaluate={best}"]) == 0
    image = Image.open(run / "evaluation" / "checkpoint-best" / "samples.png")
    assert image.width > 200 and image.height > 100
    assert main.main([f"--generate={best}", f"--output={tmp_path / 'synth'}", "--num-per-class=4", "--format=native"]) == 0
    archive = np.load(tmp_path / "synth.npz", allow_pickle=False)
    assert archive["samples"].shape == (12, 16, features)
    again = folder.load(tmp_path / "synth")  # the native export is itself a folder data set
    assert again.class_names == raw.class_names and len(again.sequences) == 12
    np.testing.assert_allclose(np.stack(again.sequences), archive["samples"], rtol=1e-5, atol=1e-4)


def test_subjects_csv_overrides_names(tmp_path):
    data = _write_dataset(tmp_path / "mine", 2)
    files = sorted(p.relative_to(data).as_posix() for p in data.rglob("*.*") if p.parent != data)
    (data / "subjects.csv").write_text("file,subject\n" + "\n".join(f"{f},{'alice' if i % 2 else 'bob'}" for i, f in enumerate(files)))
    assert sorted(set(folder.load(data).subjects)) == ["alice", "bob"]


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda d: np.save(d / "line" / "wide.npy", np.zeros((5, 4))), r"wide\.npy: has 4 features, but .* has 2"),
        (lambda d: [p.unlink() for p in list((d / "line").iterdir())[1:]], r"class 'line' has 1 sample file\(s\); at least 2"),
        (lambda d: (d / "line" / "bad.csv").write_text("x,y\n1,2\n3,oops\n"), r"bad\.csv: line 3, column 2: 'oops' is not a number"),
        (lambda d: (d / "line" / "ragged.csv").write_text("1,2\n3\n"), r"ragged\.csv: line 2 has 1 columns"),
        (lambda d: (d / "line" / "gap.csv").write_text("x,y\n1,2\n\n4,5\n?,3\n"), r"gap\.csv: line 5, column 1"),
        (lambda d: (d / "line" / "short.csv").write_text("1,2\n"), r"short\.csv: a gesture needs at least 2 time steps"),
        (lambda d: (d / "line" / "broken.npy").write_bytes(b"\x93NUMPY garbage"), r"broken\.npy: not a readable \.npy array"),
        (lambda d: (d / "line" / "latin.csv").write_bytes("é,1\n2,3\n".encode("latin-1")), r"latin\.csv: cannot read"),
    ],
)
def test_bad_folder_inputs_name_the_file(tmp_path, breakage, message):
    data = _write_dataset(tmp_path / "mine", 2)
    breakage(data)
    with pytest.raises(DataFormatError, match=message):
        folder.load(data)


def test_empty_folder_and_missing_datapath(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match=r"empty: no class subfolders found"):
        folder.load(tmp_path / "empty")
    assert main.main(["--dataset=folder"]) == 2
    assert "--dataset=folder needs --datapath=DIR" in capsys.readouterr().err
    assert main.main(["--dataset=folder", f"--datapath={tmp_path / 'nope'}", f"--logdir={tmp_path / 'logs'}"]) == 2
    assert re.search(r"nope is not a folder", capsys.readouterr().err)


def test_checkpoint_records_the_folder_classes(tmp_path):
    data = _write_dataset(tmp_path / "mine", 3)
    assert main.main(["--dataset=folder", f"--datapath={data}", f"--logdir={tmp_path / 'logs'}", "--epochs=1",
                      "--batch-size=6", "--resample-n=8", "--vis-frequency=0"]) == 0
    (run,) = list((tmp_path / "logs").iterdir())
    state = torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    assert state["class_names"] == ["circle", "line", "zigzag"] and state["num_features"] == 3


def test_the_writer_is_the_readers_inverse(tmp_path):
    from deepnag.data.folder import csv_text, native_file, read_csv

    sample = np.random.default_rng(1).normal(size=(6, 3))
    relative, text = native_file("wave", 12, sample, "synthetic")
    assert relative.as_posix() == "wave/synthetic_012.csv" and text == csv_text(sample)
    path = tmp_path / relative
    path.parent.mkdir()
    path.write_text(text)
    np.testing.assert_allclose(read_csv(path), sample, rtol=1e-6)
