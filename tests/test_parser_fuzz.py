"""Fuzzing the data-set parsers: malformed input is always a DataFormatError naming the file."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepnag.data import DataFormatError, dollar_gds, jk2017

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**400), max_value=10**400).map(str),
    st.sampled_from(["nan", "NaN", "inf", "-Infinity", "1e999", "", " ", "0x10", "1,5", "١٢", "1e-400"]),
    st.text(max_size=6),
)


def _valid_xml(points: list[tuple[str, str]]) -> bytes:
    rows = "".join(f'<Point X="{x}" Y="{y}" T="0"/>' for x, y in points)
    return f'<?xml version="1.0" encoding="utf-8"?><Gesture Name="arrow01">{rows}</Gesture>'.encode()


def _skeleton(frames: int, values: list[str]) -> str:
    lines = ["duck", str(frames)]
    for f in range(frames):
        lines.append("####")
        lines += [",".join(values[(3 * j + k) % len(values)] for k in range(3)) for j in range(21)]
    return "\n".join(lines)


def _parses_or_names_file(parse, data, source: str) -> None:
    try:
        result = parse(data)
    except DataFormatError as error:
        assert str(error).startswith(source), str(error)
        assert "\n" not in str(error)
        return
    points = result[1]
    assert all(math.isfinite(v) for v in points.ravel())


@FUZZ
@given(st.binary(max_size=400))
def test_xml_random_bytes(data):
    _parses_or_names_file(lambda d: dollar_gds.parse_gesture_xml(d, "fuzz.xml"), data, "fuzz.xml")


@FUZZ
@given(st.lists(st.tuples(NUMBERS, NUMBERS), min_size=0, max_size=5))
def test_xml_strange_numbers(points):
    data = _valid_xml([(x.replace('"', "").replace("<", "").replace("&", ""), y.replace('"', "").replace("<", "").replace("&", "")) for x, y in points])
    _parses_or_names_file(lambda d: dollar_gds.parse_gesture_xml(d, "fuzz.xml"), data, "fuzz.xml")


@FUZZ
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=3000))
def test_xml_truncated_and_mixed_encodings(noise, cut):
    data = _valid_xml([("1", "2"), ("3", "4")])
    data = (data[:cut] + noise) if cut < len(data) else data.decode().encode("utf-16")
    _parses_or_names_file(lambda d: dollar_gds.parse_gesture_xml(d, "fuzz.xml"), data, "fuzz.xml")


@FUZZ
@given(st.text(max_size=600))
def test_skeleton_random_text(text):
    _parses_or_names_file(lambda t: jk2017.parse_skeleton_file(t, "ex_1.txt", "duck"), text, "ex_1.txt")


@FUZZ
@given(st.integers(min_value=-5, max_value=4), st.lists(NUMBERS, min_size=1, max_size=6), st.integers(min_value=0, max_value=5000))
def test_skeleton_strange_numbers_and_truncation(frames, values, cut):
    text = _skeleton(max(frames, 0), [v.replace("\n", "").replace(",", ";") for v in values])
    text = text.replace("duck\n0", f"duck\n{frames}", 1) if frames <= 0 else text[: cut or None]
    _parses_or_names_file(lambda t: jk2017.parse_skeleton_file(t, "ex_1.txt", "duck"), text, "ex_1.txt")


@FUZZ
@given(st.binary(min_size=1, max_size=300))
def test_skeleton_files_with_wrong_encodings(tmp_path_factory, data):
    folder: Path = tmp_path_factory.mktemp("jk") / "Sub_U100" / "duck"
    folder.mkdir(parents=True)
    path = folder / "ex_1.txt"
    path.write_bytes(b"duck\n1\n####\n" + data)  # one frame needs 21 joint lines: never valid here
    try:
        jk2017.KINECT.load_folder(folder.parent.parent)
    except DataFormatError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
    else:
        raise AssertionError("a one-line frame was accepted")
