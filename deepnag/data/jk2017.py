"""The JK2017 skeleton data sets (Taranta et al., CHI 2017; ISUE/Jackknife): Kinect bodies and Leap Motion hands.

On disk: `<datapath>/jk2017/<sensor>/training/<subject>/<class>/ex_<k>.txt`, laid
out as in the publisher's repository, one text format for both sensors (21
joints × xyz per frame). Missing files are downloaded one by one (kept across
interrupted runs). The data sets' license is academic and non-commercial: users
fetch them themselves; this project never redistributes them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from deepnag.data.base import DataFormatError, RawGestures, is_number
from deepnag.data.download import download_many, offline_advice, remove_empty_folders
from deepnag.errors import UserError

log = logging.getLogger(__name__)

JOINTS = 21
FEATURES = JOINTS * 3  # x, y, z of every joint
_LINES_PER_FRAME = JOINTS + 1  # "####" then one line per joint
PUBLISHER_URL = "https://raw.githubusercontent.com/ISUE/Jackknife/master/datasets/jk2017"
EXAMPLES = (1, 2)
LICENSE_NOTICE = (
    "JK2017 is distributed by the University of Central Florida Research Foundation under an "
    "academic, non-commercial license (see LICENSE in github.com/ISUE/Jackknife): by downloading it "
    "you accept that license. This project does not redistribute it."
)
_NOTICE_MARKER = ".license-notice-shown"


@dataclass(frozen=True)
class SkeletonSet:
    """One JK2017 sensor's training set: where it lives, who recorded what; reads and writes its files.

    Its upper-case attributes are the reader interface every data set module offers (NAME, CLASSES, …).
    """

    NAME: str
    SENSOR: str  # the publisher's folder under datasets/jk2017/
    TITLE: str  # for messages: "JK2017 Kinect"
    SUBJECTS: tuple[str, ...]
    CLASSES: tuple[str, ...]
    DISPLAY_NAMES: tuple[str, ...]
    URL_ENV: str
    FIGURE: str  # which skeleton figures draw: "body" or "hand"
    NUM_FEATURES: int = FEATURES

    @property
    def FOLDER(self) -> Path:  # noqa: N802 (the reader interface's constant)
        return Path("jk2017") / self.SENSOR / "training"

    @property
    def DEFAULT_URL(self) -> str:  # noqa: N802
        return f"{PUBLISHER_URL}/{self.SENSOR}/training"

    def relative_paths(self) -> list[Path]:
        """Every training file (subjects × classes × 2 examples), relative to the training folder."""
        return [Path(s) / c / f"ex_{k}.txt" for s in self.SUBJECTS for c in self.CLASSES for k in EXAMPLES]

    def fetch(self, datapath: Path, url: str | None = None) -> Path:
        """Make sure all training files are under `datapath`; download the missing ones."""
        folder = Path(datapath) / self.FOLDER
        missing = [p for p in self.relative_paths() if not (folder / p).is_file()]
        if not missing:
            return folder
        base = (url or self.DEFAULT_URL).rstrip("/")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"cannot create {folder} ({error.strerror}); choose a writable --datapath") from None
        marker = Path(datapath) / "jk2017" / _NOTICE_MARKER
        if not marker.exists():
            log.warning(LICENSE_NOTICE)  # marked shown once a download succeeds: a failed one leaves nothing behind
        log.info("downloading %d %s files from %s", len(missing), self.TITLE, base)
        try:
            download_many(
                [f"{base}/{p.as_posix()}" for p in missing],
                [folder / p for p in missing],
                description=f"{self.TITLE} files",
                advice=offline_advice(self.URL_ENV, "the files", folder, self.FOLDER),
            )
        finally:
            for path in {folder / p.parent for p in missing}:
                remove_empty_folders(path, Path(datapath))
        marker.touch()
        log.info("downloaded %d %s files to %s", len(missing), self.TITLE, folder)
        return folder

    def load(self, datapath: Path, url: str | None = None) -> RawGestures:
        """Load every training sample (subjects × classes × 2), 63 features each; download what is missing first."""
        folder = self.fetch(datapath, url)
        return self.load_folder(folder, [folder / p for p in self.relative_paths()])

    def load_folder(self, folder: Path, paths: list[Path] | None = None) -> RawGestures:
        """Parse `<subject>/<class>/ex_<k>.txt` files under `folder` (default: every such file there).

        Also reads what `--generate --format native` writes (subject `Sub_synthetic`).
        """
        folder = Path(folder)
        if paths is None:
            paths = sorted(folder.glob("*/*/ex_*.txt"))
            if not paths:
                raise DataFormatError(f"{folder}: no <subject>/<class>/ex_<k>.txt files found")
        sequences, labels, subjects = [], [], []
        for path in paths:
            subject, class_name = path.parent.parent.name, path.parent.name
            if class_name not in self.CLASSES:
                raise DataFormatError(f"{path}: unknown class folder {class_name!r}; known: {', '.join(self.CLASSES)}")
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise DataFormatError(f"{path}: cannot read ({error}); delete it to download it again") from None
            _, frames = parse_skeleton_file(text, str(path), expected_class=class_name)
            sequences.append(frames)
            labels.append(self.CLASSES.index(class_name))
            subjects.append(subject)
        return RawGestures(
            sequences=tuple(sequences),
            labels=np.array(labels, dtype=np.int64),
            class_names=self.CLASSES,
            display_names=self.DISPLAY_NAMES,
            subjects=tuple(subjects),
        )

    def native_file(self, class_name: str, number: int, sample: np.ndarray, subject: str) -> tuple[PurePosixPath, str]:
        """Where one sample goes in the data set's own layout (relative to `--datapath`), and its text."""
        return PurePosixPath(self.FOLDER, f"Sub_{subject}", class_name, f"ex_{number}.txt"), skeleton_text(class_name, sample)


KINECT = SkeletonSet(
    NAME="jk2017-kinect",
    SENSOR="kinect",
    TITLE="JK2017 Kinect",
    SUBJECTS=tuple(f"Sub_U{i}" for i in (*range(100, 112), *range(200, 208))),
    CLASSES=(
        "cartwheel_left", "cartwheel_right", "duck", "hook_left", "hook_right", "jab_left", "jab_right",
        "kick_left", "kick_right", "push", "sidekick_left", "sidekick_right", "uppercut_left", "uppercut_right",
    ),
    DISPLAY_NAMES=(
        "Cartwheel (left)", "Cartwheel (right)", "Duck", "Hook (left)", "Hook (right)", "Jab (left)",
        "Jab (right)", "Kick (left)", "Kick (right)", "Push", "Side kick (left)", "Side kick (right)",
        "Uppercut (left)", "Uppercut (right)",
    ),
    URL_ENV="DEEPNAG_JK2017_URL",
    FIGURE="body",
)
"""JK2017 Kinect: 20 subjects × 14 full-body gestures × 2 examples = 560 files."""

LEAP = SkeletonSet(
    NAME="jk2017-leap",
    SENSOR="leap_motion",
    TITLE="JK2017 Leap Motion",
    SUBJECTS=tuple(f"Sub_U{i}" for i in (*range(300, 308), *range(400, 405), *range(500, 507))),
    CLASSES=("explode", "fist_2_circles", "index_2_circles", "knock_x3", "love", "redrum", "rock_out", "scissors",
             "sideways"),
    DISPLAY_NAMES=("Explode", "Fist, 2 circles", "Index finger, 2 circles", "Knock × 3", "Love", "Redrum", "Rock out",
                   "Scissors", "Sideways"),
    URL_ENV="DEEPNAG_JK2017_LEAP_URL",
    FIGURE="hand",
)
"""JK2017 Leap Motion: 20 subjects × 9 hand gestures × 2 examples = 360 files."""

SETS = (KINECT, LEAP)


def parse_skeleton_file(text: str, source: str, expected_class: str | None = None) -> tuple[str, np.ndarray]:
    """Parse one JK2017 file → (class name, frames (T, 63)).

    Line 1 is the class name (must equal `expected_class`, the folder name), line 2
    the number of frames, then per frame a `####` line and 21 lines `x,y,z`.
    """
    lines = text.strip().splitlines()
    if len(lines) < 2:
        raise DataFormatError(f"{source}: too short for a JK2017 file (needs a class line and a frame count)")
    name = lines[0].strip()
    if expected_class is not None and name != expected_class:
        raise DataFormatError(f"{source}: line 1: class {name!r} does not match its folder {expected_class!r}")
    try:
        frames = int(lines[1])
    except ValueError:
        raise DataFormatError(f"{source}: line 2: frame count {lines[1].strip()!r} is not an integer") from None
    if frames < 1:
        raise DataFormatError(f"{source}: line 2: frame count {frames} must be at least 1")
    body = np.array(lines[2:], dtype=str)
    if len(body) != frames * _LINES_PER_FRAME:
        _raise_for_frame_lengths(body, frames, source)
    separators = np.char.strip(body[0::_LINES_PER_FRAME])
    bad = np.flatnonzero(separators != "####")
    if bad.size:
        raise DataFormatError(f"{source}: line {3 + bad[0] * _LINES_PER_FRAME}: expected '####' between frames")
    is_coordinate = np.ones(len(body), dtype=bool)
    is_coordinate[0::_LINES_PER_FRAME] = False
    coordinates = body[is_coordinate]
    line_numbers = np.flatnonzero(is_coordinate) + 3
    commas = np.char.count(coordinates, ",")
    bad = np.flatnonzero(commas != 2)
    if bad.size:
        raise DataFormatError(
            f"{source}: line {line_numbers[bad[0]]}: expected 'x,y,z', got {coordinates[bad[0]].strip()!r}"
        )
    try:
        values = np.array(",".join(coordinates).split(","), dtype=np.float64)
    except ValueError:
        fields = np.char.split(coordinates, ",")
        row = next(i for i, parts in enumerate(fields) if not all(is_number(p) for p in parts))
        raise DataFormatError(
            f"{source}: line {line_numbers[row]}: non-numeric value in {coordinates[row].strip()!r}"
        ) from None
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values))[0] // 3)
        raise DataFormatError(f"{source}: line {line_numbers[row]}: non-finite coordinate")
    return name, values.reshape(frames, FEATURES)


def _raise_for_frame_lengths(body: np.ndarray, frames: int, source: str) -> None:
    """The first frame without its 21 joint lines (a truncated or damaged file), else the frame count's mismatch."""
    starts = np.flatnonzero(np.char.strip(body) == "####")
    if not starts.size or starts[0] != 0:
        raise DataFormatError(f"{source}: line 3: expected '####' between frames")
    lengths = np.diff(np.append(starts, len(body))) - 1
    bad = np.flatnonzero(lengths != JOINTS)
    if bad.size:
        first = int(bad[0])
        raise DataFormatError(f"{source}: line {3 + starts[first]}: frame {first + 1} has {lengths[first]} joint lines, "
                              f"expected {JOINTS} (a truncated or damaged file)")
    raise DataFormatError(f"{source}: header says {frames} frames but the file holds {len(starts)}")


def skeleton_text(class_name: str, frames: np.ndarray) -> str:
    """One skeleton gesture in JK2017's text format: the inverse of `parse_skeleton_file`."""
    joints = frames.reshape(len(frames), JOINTS, 3)
    body = "\n".join("####\n" + "\n".join(f"{x:.9g},{y:.9g},{z:.9g}" for x, y, z in frame) for frame in joints)
    return f"{class_name}\n{len(frames)}\n{body}\n"
