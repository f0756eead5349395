"""JK2017: the skeleton parser on tiny hand-written files, its writer, and the real data set's shape."""

from __future__ import annotations

import numpy as np
import pytest

from deepnag.data import DataFormatError, load_raw
from deepnag.data.jk2017 import KINECT, parse_skeleton_file, skeleton_text


def _skeleton_text(name: str, frames: int, value: str = "0.5") -> str:
    lines = [name, str(frames)]
    for f in range(frames):
        lines.append("####")
        lines += [f"{j},{f},{value}" for j in range(21)]
    return "\n".join(lines) + "\n"


def test_skeleton_parser_reads_frames_in_joint_order():
    name, frames = parse_skeleton_file(_skeleton_text("duck", 3), "ex_1.txt", expected_class="duck")
    assert name == "duck" and frames.shape == (3, 63)
    np.testing.assert_array_equal(frames[2, :6], [0, 2, 0.5, 1, 2, 0.5])


@pytest.mark.parametrize(
    "text, message",
    [
        (_skeleton_text("push", 2), r"ex_1\.txt: line 1: class 'push' does not match its folder 'duck'"),
        (_skeleton_text("duck", 2).replace("duck\n2\n", "duck\n3\n", 1), r"header says 3 frames but the file holds 2$"),
        (_skeleton_text("duck", 2, value="abc"), r"ex_1\.txt: line 4: non-numeric value in '0,0,abc'"),
        (_skeleton_text("duck", 2).replace("duck\n2", "duck\ntwo"), r"line 2: frame count 'two' is not an integer"),
        (_skeleton_text("duck", 2).replace("1,0,0.5\n", "1,0\n", 1), r"line 5: expected 'x,y,z', got '1,0'"),
        (_skeleton_text("duck", 2).replace("####", "#", 1), r"line 3: expected '####'"),
        ("duck\n", r"too short"),
    ],
)
def test_skeleton_parser_errors_name_file_and_line(text, message):
    with pytest.raises(DataFormatError, match=message):
        parse_skeleton_file(text, "ex_1.txt", expected_class="duck")


def test_real_jk2017(shared_data):
    raw = load_raw("jk2017-kinect", shared_data)
    assert len(raw.sequences) == 560 and len(raw.class_names) == 14 and raw.num_features == 63
    assert len(set(raw.subjects)) == 20
    assert (np.bincount(raw.labels) == 40).all()
    assert raw.display_names[10] == "Side kick (left)"


def test_the_writer_is_the_readers_inverse():
    frames = np.random.default_rng(0).normal(size=(4, 63))
    name, parsed = parse_skeleton_file(skeleton_text("duck", frames), "ex_1.txt", expected_class="duck")
    assert name == "duck"
    np.testing.assert_allclose(parsed, frames, rtol=1e-6)
    path, text = KINECT.native_file("duck", 3, frames, "synthetic")
    assert path.parts[-3:] == ("Sub_synthetic", "duck", "ex_3.txt") and text == skeleton_text("duck", frames)


def test_real_jk2017_leap_motion(shared_data):
    """The Leap Motion hands: 20 subjects × 9 classes × 2 examples, 120 frames of 21 joints each."""
    raw = load_raw("jk2017-leap", shared_data)
    assert len(raw.sequences) == 360 and raw.num_features == 63 and len(raw.class_names) == 9
    assert len(set(raw.subjects)) == 20 and (np.bincount(raw.labels) == 40).all()
    assert {s.shape for s in raw.sequences} == {(120, 63)}
    first = raw.sequences[0]  # Sub_U300/explode/ex_1.txt, frame 1, joint 1 (the palm)
    assert (raw.subjects[0], raw.class_names[raw.labels[0]]) == ("Sub_U300", "explode")
    np.testing.assert_array_equal(first[0, :3], [411.1185, 110.8744, 119.386])
    assert raw.display_names[raw.class_names.index("knock_x3")] == "Knock × 3"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda lines: lines[:-5], r"line 2621: frame 120 has 16 joint lines, expected 21 \(a truncated or damaged file\)$"),
        (lambda lines: lines[:2] + [x for i, x in enumerate(lines[2:]) if i % 22 != 21],
         r"line 3: frame 1 has 20 joint lines, expected 21"),
        (lambda lines: lines[:40] + ["411.1,abc,119.3"] + lines[41:], r"line 41: non-numeric value in '411.1,abc,119.3'"),
    ],
    ids=["truncated-frame", "20-joints-a-frame", "non-numeric"],
)
def test_bad_leap_files_are_one_line_errors_naming_file_and_line(shared_data, tmp_path, change, message):
    from deepnag.data.jk2017 import LEAP

    source = shared_data / LEAP.FOLDER / "Sub_U300" / "love" / "ex_1.txt"
    bad = tmp_path / "Sub_U300" / "love" / "ex_1.txt"
    bad.parent.mkdir(parents=True)
    bad.write_text("\n".join(change(source.read_text().splitlines())) + "\n")
    with pytest.raises(DataFormatError, match=message) as caught:
        LEAP.load_folder(tmp_path)
    assert str(caught.value).startswith(str(bad)) and "\n" not in str(caught.value)
