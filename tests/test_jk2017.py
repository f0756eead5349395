"""JK2017: the skeleton parser on tiny hand-written files, its writer, and the real data set's shape."""

from __future__ import annotations

import numpy as np
import pytest

from deepnag.data import DataFormatError, load_raw
from deepnag.data.jk2017 import native_file, parse_skeleton_file, skeleton_text


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
        (_skeleton_text("duck", 2).replace("duck\n2\n", "duck\n3\n", 1), r"header says 3 frames but the file holds 2"),
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
    path, text = native_file("duck", 3, frames, "synthetic")
    assert path.parts[-3:] == ("Sub_synthetic", "duck", "ex_3.txt") and text == skeleton_text("duck", frames)
