"""Data-set parsers on tiny hand-written files, and the real data sets' shape."""

from __future__ import annotations

import numpy as np
import pytest

from deepnag.data import DataFormatError, load_raw
from deepnag.data.dollar_gds import parse_gesture_xml
from deepnag.data.jk2017 import parse_skeleton_file


def _skeleton_text(name: str, frames: int, value: str = "0.5") -> str:
    lines = [name, str(frames)]
    for f in range(frames):
        lines.append("####")
        lines += [f"{j},{f},{value}" for j in range(21)]
    return "\n".join(lines) + "\n"


def test_xml_parser_reads_label_and_points():
    label, points = parse_gesture_xml(
        b'\xef\xbb\xbf<?xml version="1.0"?><Gesture Name="left_curly_brace07" NumPts="2">'
        b'<Point X="1" Y="2" T="5"/><Point X="3.5" Y="-4" T="9"/></Gesture>', "g.xml")
    assert label == "left_curly_brace"
    np.testing.assert_array_equal(points, [[1, 2], [3.5, -4]])


@pytest.mark.parametrize(
    "data, message",
    [
        (b'<Gesture Name="x01"><Point X="1" Y="2"></Gesture>', r"g\.xml: not valid XML .*line 1"),
        (b'<Gesture Name="x01"><Point X="1" Y="oops"/></Gesture>', r"g\.xml: point 1 has X='1', Y='oops'"),
        (b'<Gesture><Point X="1" Y="2"/></Gesture>', r"g\.xml: <Gesture> has no Name"),
        (b'<Gesture Name="x01"></Gesture>', r"g\.xml: gesture 'x01' has no <Point>"),
        (b'<Stroke Name="x01"/>', r"g\.xml: root element is <Stroke>"),
        (b'<Gesture Name="x01"><Point X="nan" Y="2"/></Gesture>', r"g\.xml: .*non-finite"),
    ],
)
def test_xml_parser_errors_name_the_file(data, message):
    with pytest.raises(DataFormatError, match=message):
        parse_gesture_xml(data, "g.xml")


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


def test_bad_file_inside_a_data_set_is_reported_with_its_path(tmp_path):
    folder = tmp_path / "dollar_gds" / "xml_logs" / "s02" / "medium"
    folder.mkdir(parents=True)
    (folder / "arrow01.xml").write_text('<Gesture Name="arrow01"><Point X="1" Y="2"/><Point X="2" Y="3"/></Gesture>')
    (folder / "arrow02.xml").write_text('<Gesture Name="arrow02"><Point X="1" Y=</Gesture>')
    with pytest.raises(DataFormatError, match=r"s02/medium/arrow02\.xml: not valid XML"):
        load_raw("dollar-gds", tmp_path)


def test_unknown_dollar_class_is_an_error(tmp_path):
    folder = tmp_path / "dollar_gds" / "xml_logs" / "s02" / "medium"
    folder.mkdir(parents=True)
    (folder / "spiral01.xml").write_text('<Gesture Name="spiral01"><Point X="1" Y="2"/></Gesture>')
    with pytest.raises(DataFormatError, match=r"spiral01\.xml: unknown gesture class 'spiral'"):
        load_raw("dollar-gds", tmp_path)


def test_real_dollar_gds_medium(shared_data):
    raw = load_raw("dollar-gds", shared_data)
    assert len(raw.sequences) == 1600 and len(raw.class_names) == 16 and raw.num_features == 2
    assert "s01 (pilot)" not in raw.subjects
    subjects, labels = np.unique(np.array(raw.subjects), return_inverse=True)
    assert len(subjects) == 10
    per_subject_class = np.zeros((10, 16), int)
    np.add.at(per_subject_class, (labels, raw.labels), 1)
    assert (per_subject_class == 10).all()


def test_real_dollar_gds_other_speeds(shared_data):
    raw = load_raw("dollar-gds", shared_data, speeds=("slow", "fast"))
    assert len(raw.sequences) == 3200


def test_real_jk2017(shared_data):
    raw = load_raw("jk2017-kinect", shared_data)
    assert len(raw.sequences) == 560 and len(raw.class_names) == 14 and raw.num_features == 63
    assert len(set(raw.subjects)) == 20
    assert (np.bincount(raw.labels) == 40).all()
    assert raw.display_names[10] == "Side kick (left)"


def test_select_classes_and_cap(shared_data):
    raw = load_raw("dollar-gds", shared_data).select(("star", "arrow"), max_per_class=7)
    assert raw.class_names == ("arrow", "star")
    assert np.bincount(raw.labels).tolist() == [7, 7]
    with pytest.raises(Exception, match=r"unknown class\(es\) spiral in --classes; known: arrow"):
        load_raw("dollar-gds", shared_data).select(("spiral",))
