"""MMG (Anthony & Wobbrock, GI 2010/2012): the reader on the real archive and on tiny archives built here, its
errors, the pen state, the native writer, and the download."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from deepnag.cli import parse_args
from deepnag.data import DataFormatError, load_raw, mmg
from deepnag.data.download import DownloadError
from deepnag.errors import UserError

PEN_SUBJECTS = ("10", "11", "12", "22", "28", "68", "71", "88", "95", "98")
FINGER_SUBJECTS = ("41", "58", "61", "73", "75", "77", "85", "94", "99")


@pytest.fixture(scope="module")
def medium(mmg_data):
    """The real data set as a run loads it by default (both devices, medium speed): read once per module."""
    return load_raw("mmg", mmg_data, download_url="http://127.0.0.1:9/never")


def point(x, y, stroke, t=0):
    return {"x": x, "y": y, "w": None, "z": None, "alpha": None, "beta": None, "gamma": None, "t": t,
            "stroke_id": stroke}


def gesture(points, device="Pen", name="D") -> bytes:
    return json.dumps({"name": name, "subject": "10", "date": None, "paths": {device: {"strokes": points}}}).encode()


GOOD = gesture([point(0, 0, 0), point(0, 10, 0), point(5, 0, 1), point(5, 10, 1)])


def make_archive(path: Path, files: dict[str, bytes], mode: str = "w:xz") -> Path:
    """A tar archive at `path` holding `files` (member name → bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def data_set(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A datapath whose mmg/mmg.tar.xz holds `files` under mmg/MMG/."""
    make_archive(tmp_path / "mmg" / "mmg.tar.xz", {f"mmg/MMG/{k}": v for k, v in files.items()})
    return tmp_path


# ----------------------------------------------------------------------------------------------------------------------
# The real data set
# ----------------------------------------------------------------------------------------------------------------------
def test_real_mmg_medium_counts_and_shapes(medium):
    assert len(medium.sequences) == 3043  # 1601 stylus + 1442 finger files: about 9128 / 3
    assert medium.class_names == mmg.CLASSES and len(medium.class_names) == 16 and medium.num_features == 3
    assert "five-point star" in medium.display_names and "half note" in medium.display_names
    subjects = np.array(medium.subjects)
    assert sorted(set(medium.subjects)) == sorted(PEN_SUBJECTS + FINGER_SUBJECTS)
    assert np.isin(subjects, PEN_SUBJECTS).sum() == 1601 and np.isin(subjects, FINGER_SUBJECTS).sum() == 1442
    per_subject_class = np.zeros((19, 16), int)
    np.add.at(per_subject_class, (np.unique(subjects, return_inverse=True)[1], medium.labels), 1)
    assert per_subject_class.min() >= 10 and per_subject_class.max() <= 11
    assert all(s.ndim == 2 and s.shape[1] == 3 and len(s) >= 4 for s in medium.sequences)
    pen = np.concatenate([s[:, 2] for s in medium.sequences])
    assert set(np.unique(pen)) == {0.0, 1.0} and all(s[0, 2] == 1.0 for s in medium.sequences)
    strokes = np.array([len(mmg.strokes_of(s)) for s in medium.sequences])
    assert strokes.min() == 1 and strokes.max() <= 6


def test_real_mmg_first_values_of_known_files(medium):
    first = medium.sequences[0]  # Finger/41/41-finger-MEDIUM/D2-0.json, the first path in sorted order
    assert medium.subjects[0] == "41" and medium.class_names[medium.labels[0]] == "D" and first.shape == (88, 3)
    np.testing.assert_array_equal(first[:3], [[67, 23, 1], [67, 67, 1], [67, 71, 1]])
    np.testing.assert_array_equal(first[27:30], [[70, 148, 1], [72, 37, 0], [106, 18, 1]])  # stroke 1 starts at 28
    np.testing.assert_array_equal(first[-1], [68, 161, 1])
    d = medium.class_names.index("D")
    pen_d = [s for s, who, label in zip(medium.sequences, medium.subjects, medium.labels)
             if who == "10" and label == d and tuple(s[0, :2]) == (68, 55)]  # Pen/10/10-stylus-MEDIUM/D2-0.json
    assert len(pen_d) == 1 and pen_d[0].shape == (69, 3)
    np.testing.assert_array_equal(pen_d[0][:3], [[68, 55, 1], [64, 44, 1], [60, 53, 1]])
    np.testing.assert_array_equal(pen_d[0][23:26], [[52, 132, 1], [46, 91, 0], [49, 61, 1]])
    assert np.flatnonzero(pen_d[0][:, 2] == 0).tolist() == [24]


def test_real_mmg_every_speed_is_the_whole_archive(mmg_data):
    raw = load_raw("mmg", mmg_data, speeds=("slow", "medium", "fast"))
    assert len(raw.sequences) == 9128 and len(set(raw.subjects)) == 19


def test_the_pen_state_round_trips_on_every_real_sample(medium):
    for sample in medium.sequences:
        strokes = mmg.strokes_of(sample)
        np.testing.assert_array_equal(mmg.sample_of(strokes), sample)
        assert [len(s) for s in strokes] == np.bincount(mmg.stroke_ids(sample)).tolist()


# ----------------------------------------------------------------------------------------------------------------------
# Pen state
# ----------------------------------------------------------------------------------------------------------------------
def test_strokes_to_sample_to_strokes():
    strokes = [np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[5.0, 5.0]]), np.array([[2.0, 0.0], [3.0, 0.0], [4, 1]])]
    sample = mmg.sample_of(strokes)
    np.testing.assert_array_equal(sample[:, 2], [1, 1, 0, 0, 1, 1])  # pen up on the way to each stroke's first point
    back = mmg.strokes_of(sample)
    assert len(back) == 3 and all(np.array_equal(a, b) for a, b in zip(back, strokes))
    assert mmg.stroke_ids(sample).tolist() == [0, 0, 1, 2, 2, 2]


def test_generated_pen_states_split_below_one_half_and_never_before_the_first_point():
    sample = np.array([[0, 0, 0.1], [1, 0, 0.9], [2, 0, 0.49], [3, 0, 0.5], [4, 0, 0.2]])
    assert [len(s) for s in mmg.strokes_of(sample)] == [2, 2, 1]
    assert len(mmg.strokes_of(sample[:, :2])) == 1  # (T, 2): one stroke


def test_sample_of_refuses_empty_strokes():
    with pytest.raises(ValueError, match="every stroke a point"):
        mmg.sample_of([np.zeros((2, 2)), np.zeros((0, 2))])


# ----------------------------------------------------------------------------------------------------------------------
# Tiny archives: the reader's options and its errors
# ----------------------------------------------------------------------------------------------------------------------
def test_device_and_speed_choose_the_session_folders(tmp_path):
    datapath = data_set(tmp_path, {
        "Pen/10/10-stylus-MEDIUM/D2-0.json": GOOD, "Pen/10/10-stylus-FAST/D2-0.json": GOOD,
        "Finger/41/41-finger-MEDIUM/X2-0.json": GOOD.replace(b'"Pen"', b'"Finger"'),
        "Finger/41/41-finger-SLOW/line1-3.json": GOOD,
    })
    both = load_raw("mmg", datapath)
    assert both.subjects == ("41", "10") and [both.class_names[i] for i in both.labels] == ["X", "D"]
    np.testing.assert_array_equal(both.sequences[1], [[0, 0, 1], [0, 10, 1], [5, 0, 0], [5, 10, 1]])
    assert load_raw("mmg", datapath, mmg_device="pen").subjects == ("10",)
    assert len(load_raw("mmg", datapath, mmg_device="finger", speeds=("slow", "medium")).sequences) == 2
    assert len(load_raw("mmg", datapath, mmg_device="pen", speeds=("fast", "medium")).sequences) == 2


def test_an_extracted_mmg_folder_is_read_too(tmp_path):
    folder = tmp_path / "mmg" / "MMG" / "Pen" / "10" / "10-stylus-MEDIUM"
    folder.mkdir(parents=True)
    (folder / "T2-4.json").write_bytes(GOOD)
    raw = load_raw("mmg", tmp_path)
    assert len(raw.sequences) == 1 and raw.class_names[raw.labels[0]] == "T"
    (folder / "T2-5.json").write_bytes(b"{")
    with pytest.raises(DataFormatError, match=r"MMG/Pen/10/10-stylus-MEDIUM/T2-5\.json: not valid JSON"):
        load_raw("mmg", tmp_path)


BAD_FILES = [
    (gesture([]), r"D2-0\.json: gesture has no points; replace the file"),
    (b'{"paths": {"Pen": {"strokes": [{"x": 1, "y"', r"D2-0\.json: not valid JSON \(.*\); replace the file"),
    (b"\xff\xfe not text", r"D2-0\.json: not valid JSON"),
    (json.dumps({"name": "D"}).encode(), r"D2-0\.json: no paths\.Pen\.strokes or paths\.Finger\.strokes list"),
    (gesture([point(0, 0, 0), point(1, 1, 1), point(2, 2, 0)]),
     r"D2-0\.json: stroke_id goes from 1 to 0 at point 3; stroke ids start at 0 and rise by one"),
    (gesture([point(0, 0, 0), point(1, 1, 0), point(2, 2, 2)]), r"D2-0\.json: stroke_id goes from 0 to 2 at point 3"),
    (gesture([point(0, 0, 1), point(1, 1, 1)]), r"D2-0\.json: stroke_id starts at 1; stroke ids start at 0"),
    (gesture([point(0, 0, 0), point("oops", 1, 0)]),
     r"D2-0\.json: point 2 has x='oops', y=1, stroke_id=0; all three must be finite numbers"),
    (gesture([point(0, 0, 0), point(1, None, 0)]), r"D2-0\.json: point 2 has x=1, y=None"),
]


@pytest.mark.parametrize("data, message", BAD_FILES)
def test_a_bad_file_is_one_line_naming_it(tmp_path, data, message):
    datapath = data_set(tmp_path, {"Pen/10/10-stylus-MEDIUM/D2-0.json": data})
    with pytest.raises(DataFormatError, match=message) as caught:
        load_raw("mmg", datapath)
    assert "\n" not in str(caught.value)
    assert str(tmp_path / "mmg" / "mmg.tar.xz") + ":mmg/MMG/Pen/10/10-stylus-MEDIUM/D2-0.json: " in str(caught.value)


def test_unknown_class_and_bad_file_name(tmp_path):
    with pytest.raises(DataFormatError, match=r"spiral2-0\.json: unknown gesture class 'spiral'; known: D, H"):
        load_raw("mmg", data_set(tmp_path / "a", {"Pen/10/10-stylus-MEDIUM/spiral2-0.json": GOOD}))
    with pytest.raises(DataFormatError, match=r"D\.json: file name is not <class><strokes>-<rep>\.json"):
        load_raw("mmg", data_set(tmp_path / "b", {"Pen/10/10-stylus-MEDIUM/D.json": GOOD}))


def test_no_gestures_of_the_chosen_kind(tmp_path):
    datapath = data_set(tmp_path, {"Pen/10/10-stylus-SLOW/D2-0.json": GOOD})
    with pytest.raises(DataFormatError, match=r"mmg\.tar\.xz: no both medium gestures found; delete .*mmg to download"):
        load_raw("mmg", datapath)


def test_a_foreign_archive_is_refused(tmp_path):
    make_archive(tmp_path / "mmg" / "mmg.tar.xz", {"xml_logs/s01/medium/arrow01.xml": b"<Gesture/>",
                                                    "other/MMG.json": GOOD})
    with pytest.raises(DataFormatError, match=r"mmg\.tar\.xz: holds no MMG/…json members, so it is not the MMG "
                                              r"archive; delete it and download the data set again \(or set "
                                              r"DEEPNAG_MMG_URL to an archive of the MMG/ folder\)$"):
        load_raw("mmg", tmp_path)


def test_not_a_tar_archive_is_refused(tmp_path):
    (tmp_path / "mmg").mkdir()
    (tmp_path / "mmg" / "mmg.tar.xz").write_bytes(b"<html>a login page, not the archive</html>")
    with pytest.raises(DataFormatError, match=r"mmg\.tar\.xz: not a tar archive \(.*\); truncated or the wrong "
                                              r"download\? Delete it and download it again$"):
        load_raw("mmg", tmp_path)


def test_a_truncated_archive_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    files = {f"Pen/10/10-stylus-MEDIUM/D2-{i}.json": gesture([point(int(x), int(y), 0) for x, y in
                                                               rng.integers(0, 500, (400, 2))]) for i in range(5)}
    archive = data_set(tmp_path, files) / "mmg" / "mmg.tar.xz"
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataFormatError, match=r"mmg\.tar\.xz: damaged or truncated archive \(.*\); delete it and "
                                              r"download it again$"):
        load_raw("mmg", tmp_path)


def test_unknown_device_or_speed_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match=r"MMG has devices pen, finger, both and speeds slow, medium, fast; got "
                                        r"device 'stylus'"):
        mmg.load(data_set(tmp_path, {"Pen/10/10-stylus-MEDIUM/D2-0.json": GOOD}), device="stylus")


def test_the_device_flag():
    config, explicit = parse_args(["--dataset=mmg", "--mmg-device=Pen", "--speeds=fast"])
    assert config.mmg_device == "pen" and config.speeds == ("fast",) and "mmg_device" in explicit
    assert parse_args(["--dataset=mmg"])[0].mmg_device == "both"
    with pytest.raises(UserError, match=r"--mmg-device applies to --dataset=mmg only"):
        parse_args(["--mmg-device=pen"])
    with pytest.raises(UserError, match=r"unknown --mmg-device 'stylus'; known: pen, finger, both"):
        parse_args(["--dataset=mmg", "--mmg-device=stylus"])


# ----------------------------------------------------------------------------------------------------------------------
# The native writer
# ----------------------------------------------------------------------------------------------------------------------
def test_the_native_file_is_read_back_with_its_strokes(tmp_path):
    sample = np.array([[1.5, 2.25, 0.9], [3.0, -4.125, 0.8], [10.0, 0.0, 0.1], [11.0, 1.0, 0.7], [0.5, 0.5, 0.3]])
    path, text = mmg.native_file("X", 7, sample, "synthetic")
    assert path.as_posix() == "mmg/MMG/Pen/synthetic/synthetic-stylus-MEDIUM/X3-7.json"
    points = json.loads(text)["paths"]["Pen"]["strokes"]
    assert [p["stroke_id"] for p in points] == [0, 0, 1, 1, 2] and [p["t"] for p in points] == [0, 10, 20, 30, 40]
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(text)
    raw = load_raw("mmg", tmp_path)
    assert raw.subjects == ("synthetic",) and raw.class_names[raw.labels[0]] == "X"
    np.testing.assert_allclose(raw.sequences[0][:, :2], sample[:, :2], atol=1e-3)
    np.testing.assert_array_equal(raw.sequences[0][:, 2], [1, 1, 0, 1, 0])
    assert [len(s) for s in mmg.strokes_of(raw.sequences[0])] == [2, 2, 1]


def test_the_readers_own_samples_survive_the_writer(tmp_path):
    sample = mmg.sample_of([np.array([[0, 0], [0, 9]]), np.array([[3, 3], [6, 3], [7, 1]])])
    name, parsed = mmg.parse_gesture_json(mmg.gesture_json("H", sample, "s").encode(), "H2-0.json")
    assert name == "H"
    np.testing.assert_array_equal(parsed, sample)


# ----------------------------------------------------------------------------------------------------------------------
# Download
# ----------------------------------------------------------------------------------------------------------------------
def test_download_from_a_local_mirror_then_offline(mmg_data, serve, tmp_path, caplog):
    server = serve(mmg_data / "mmg")
    raw = load_raw("mmg", tmp_path, download_url=f"{server.url}/mmg.tar.xz")
    assert len(raw.sequences) == 3043 and server.requests == ["/mmg.tar.xz"]
    assert (tmp_path / "mmg" / "mmg.tar.xz").read_bytes() == (mmg_data / "mmg" / "mmg.tar.xz").read_bytes()
    assert sorted(p.name for p in (tmp_path / "mmg").iterdir()) == ["mmg.tar.xz"]
    again = load_raw("mmg", tmp_path, download_url="http://127.0.0.1:9/unreachable.tar.xz", mmg_device="pen")
    assert len(again.sequences) == 1601


def test_a_repository_tarball_is_repacked_to_its_mmg_folder(serve, tmp_path, monkeypatch):
    top = "Gester-cd24525/datasets/2D"
    make_archive(tmp_path / "site" / "gester.tar.gz", {
        "Gester-cd24525/README.md": b"# Gester", f"{top}/$1/fast/s01/arrow-0.json": GOOD,
        f"{top}/MMG/Pen/10/10-stylus-MEDIUM/D2-0.json": GOOD, f"{top}/MMG/Finger/41/41-finger-MEDIUM/I3-1.json": GOOD,
    }, mode="w:gz")
    server = serve(tmp_path / "site")
    monkeypatch.setenv(mmg.URL_ENV, f"{server.url}/gester.tar.gz")
    raw = load_raw("mmg", tmp_path / "data")
    assert raw.subjects == ("41", "10") and server.requests == ["/gester.tar.gz"]
    with tarfile.open(tmp_path / "data" / "mmg" / "mmg.tar.xz", "r:xz") as archive:
        assert sorted(archive.getnames()) == ["mmg/MMG/Finger/41/41-finger-MEDIUM/I3-1.json",
                                              "mmg/MMG/Pen/10/10-stylus-MEDIUM/D2-0.json"]
    assert sorted(p.name for p in (tmp_path / "data" / "mmg").iterdir()) == ["mmg.tar.xz"]


def test_a_foreign_download_is_refused_and_leaves_nothing(serve, tmp_path):
    make_archive(tmp_path / "site" / "x.tar.gz", {"repo/README.md": b"hello"}, mode="w:gz")
    server = serve(tmp_path / "site")
    with pytest.raises(DataFormatError, match=r"^http://127\.0\.0\.1:\d+/x\.tar\.gz did not give the MMG archive: "
                                              r"its download holds no MMG/…json members, so it is not the MMG "
                                              r"archive; check the address \(--download-url or DEEPNAG_MMG_URL\)$"):
        load_raw("mmg", tmp_path / "data", download_url=f"{server.url}/x.tar.gz")
    assert not (tmp_path / "data").exists()


def test_a_missing_archive_that_cannot_be_downloaded_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr("deepnag.data.download._BACKOFF_S", 0.0)
    with pytest.raises(DownloadError) as caught:
        load_raw("mmg", tmp_path, download_url="http://127.0.0.1:9/mmg.tar.xz")
    message = str(caught.value)
    assert "\n" not in message and "(the connection was refused)" in message
    assert f"set {mmg.URL_ENV} or --download-url to a mirror, or put mmg.tar.xz in {tmp_path / 'mmg'} yourself" in message
    assert message.endswith("holding mmg/)") and not (tmp_path / "mmg").exists()


def test_a_missing_file_on_the_mirror_leaves_nothing(serve, tmp_path):
    server = serve(tmp_path)
    with pytest.raises(DownloadError, match=r"answered HTTP 404"):
        load_raw("mmg", tmp_path / "data", download_url=f"{server.url}/nope/mmg.tar.xz")
    assert not (tmp_path / "data").exists()
