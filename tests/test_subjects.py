"""deepnag.data.subjects: which writers a run trains on, and what is kept out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import main
from deepnag import checkpoint
from deepnag.data import RawGestures, load_raw
from deepnag.data.batches import load_data
from deepnag.data.preprocessing import MinMaxNormalizer
from deepnag.data.subjects import choose, keep, training_set
from deepnag.errors import UserError

SUBJECTS = ("s02", "s03", "s04", "s05", "s06")


def _raw() -> RawGestures:
    """Two classes; subject s06 wrote only class b."""
    subjects = ("s02", "s02", "s03", "s03", "s04", "s04", "s05", "s05", "s06")
    labels = np.array([0, 1, 0, 1, 0, 1, 0, 1, 1])
    sequences = tuple(np.full((3, 2), float(i)) for i in range(len(labels)))
    return RawGestures(sequences, labels, ("a", "b"), ("A", "B"), subjects)


def test_the_flags_combine_as_documented():
    assert choose(SUBJECTS) == SUBJECTS
    assert choose(SUBJECTS, subjects=("s04", "s02")) == ("s02", "s04")
    assert choose(SUBJECTS, holdout=("s02", "s06")) == ("s03", "s04", "s05")
    drawn = choose(SUBJECTS, holdout=("s02",), count=2, seed=7)
    assert len(drawn) == 2 and set(drawn) <= {"s03", "s04", "s05", "s06"} and drawn == tuple(sorted(drawn))
    assert choose(SUBJECTS, holdout=("s02",), count=2, seed=7) == drawn  # seeded
    assert {choose(SUBJECTS, count=2, seed=s) for s in range(20)} != {drawn}  # and the seed matters
    assert choose(SUBJECTS, subjects=("s03", "s05", "s06"), count=3, seed=1) == ("s03", "s05", "s06")


@pytest.mark.parametrize(("options", "message"), [
    ({"subjects": ("s99",)}, "unknown subject(s) s99 in --subjects; known: s02, s03, s04, s05, s06"),
    ({"holdout": ("x", "s02")}, "unknown subject(s) x in --holdout-subjects"),
    ({"subjects": ("s02", "s03"), "holdout": ("s03",)}, "s03 are in both --subjects and --holdout-subjects"),
    ({"holdout": SUBJECTS}, "--holdout-subjects keeps out every subject"),
    ({"subjects": ("s02",), "holdout": ("s03",), "count": 2}, "--train-subject-count=2 is more than the 1 subjects"),
])
def test_impossible_selections_are_one_line_errors(options, message):
    with pytest.raises(UserError) as error:
        choose(SUBJECTS, **options)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_keep_takes_only_the_chosen_subjects_and_refuses_to_empty_a_class():
    raw = _raw()
    kept = keep(raw, ("s03", "s06"))
    assert kept.subjects == ("s03", "s03", "s06") and kept.labels.tolist() == [0, 1, 1]
    assert [float(s[0, 0]) for s in kept.sequences] == [2.0, 3.0, 8.0] and kept.class_names == raw.class_names
    with pytest.raises(UserError, match=r"class\(es\) a have no samples from subject\(s\) s06; choose other"):
        keep(raw, ("s06",))
    assert training_set(raw) is raw


def test_training_on_some_subjects_fits_the_normaliser_on_them_alone(shared_data):
    data = load_data("dollar-gds", str(shared_data), resample_n=16, classes=("arrow", "circle"),
                     subjects=("s02", "s03"))
    assert data.subject_names == ("s02", "s03") and len(data) == 2 * 2 * 10
    raw = load_raw("dollar-gds", str(shared_data)).select(("arrow", "circle"))
    mine = [s for s, who in zip(raw.sequences, raw.subjects) if who in ("s02", "s03")]
    expected = MinMaxNormalizer.fit(mine)
    np.testing.assert_array_equal(data.normalizer.minimum, expected.minimum)
    np.testing.assert_array_equal(data.normalizer.maximum, expected.maximum)
    assert not np.array_equal(MinMaxNormalizer.fit(raw.sequences).maximum, expected.maximum)


def test_a_run_records_the_subjects_it_saw_and_keeps_them_on_resume(tmp_path, shared_data):
    logdir = tmp_path / "logs"
    flags = [f"--datapath={shared_data}", f"--logdir={logdir}", "--classes=arrow,star", "--resample-n=12",
             "--batch-size=8", "--use-tensorboard=0", "--train-subject-count=2", "--holdout-subjects=s02"]
    assert main.main([*flags, "--epochs=1"]) == 0
    (path,) = logdir.glob("*/checkpoints/checkpoint-final.pt")
    state = torch.load(path, weights_only=True)
    seen = checkpoint.training_subjects(state)
    assert seen is not None and len(seen) == 2 and "s02" not in seen
    assert state["config"]["train_subject_count"] == 2
    assert main.main([f"--resume={path}", "--epochs=2"]) == 0
    assert checkpoint.training_subjects(torch.load(path, weights_only=True)) == seen


def test_a_resumed_run_keeps_its_subjects(tmp_path, shared_data, capsys):
    logdir = tmp_path / "logs"
    assert main.main([f"--datapath={shared_data}", f"--logdir={logdir}", "--classes=arrow,star", "--resample-n=12",
                      "--use-tensorboard=0", "--subjects=s02,s03", "--epochs=1"]) == 0
    (path,) = logdir.glob("*/checkpoints/checkpoint-final.pt")
    capsys.readouterr()
    assert main.main([f"--resume={path}", "--epochs=2", "--subjects=s09"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        "error: --subjects=s09 conflicts with the checkpoint's s02,s03; a resumed run keeps its settings")


def test_a_bad_subject_flag_stops_before_any_run_directory(tmp_path, shared_data, capsys):
    logdir = tmp_path / "logs"
    code = main.main([f"--datapath={shared_data}", f"--logdir={logdir}", "--subjects=s02,nobody", "--epochs=1"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: unknown subject(s) nobody in --subjects; known: s02, s03")
    assert not logdir.exists() or not any(logdir.iterdir())
