"""$1-GDS: the XML parser on tiny hand-written files, its writer, and the real data set's shape."""

from __future__ import annotations

import numpy as np
import pytest

from deepnag.data import DataFormatError, load_raw
from deepnag.data.dollar_gds import gesture_xml, native_file, parse_gesture_xml


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


def test_the_writer_is_the_readers_inverse():
    points = np.array([[1.5, 2.25], [3.0, -4.125], [10.0, 0.0]])
    name, parsed = parse_gesture_xml(gesture_xml("star07", points, 7, "synthetic").encode(), "star07.xml")
    assert name == "star"
    np.testing.assert_allclose(parsed, points, atol=1e-3)
    path, _ = native_file("star", 7, points, "synthetic")
    assert path.as_posix() == "dollar_gds/xml_logs/synthetic/medium/star07.xml"
