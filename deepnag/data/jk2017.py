"""The JK2017 Kinect skeleton data set (Taranta et al., CHI 2017; ISUE/Jackknife).

On disk: `<datapath>/jk2017/kinect/training/<subject>/<class>/ex_<k>.txt`, laid
out as in the publisher's repository. Missing files are downloaded one by one
(kept across interrupted runs). The data set's license is academic and
non-commercial: users fetch it themselves; this project never redistributes it.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

import numpy as np

from deepnag.data.base import DataFormatError, RawGestures, is_number
from deepnag.data.download import download_many, offline_advice, remove_empty_folders
from deepnag.errors import UserError

log = logging.getLogger(__name__)

NAME = "jk2017-kinect"
DEFAULT_URL = "https://raw.githubusercontent.com/ISUE/Jackknife/master/datasets/jk2017/kinect/training"
URL_ENV = "DEEPNAG_JK2017_URL"
FOLDER = Path("jk2017") / "kinect" / "training"
SUBJECTS = tuple(f"Sub_U{i}" for i in (*range(100, 112), *range(200, 208)))
CLASSES = (
    "cartwheel_left", "cartwheel_right", "duck", "hook_left", "hook_right", "jab_left", "jab_right",
    "kick_left", "kick_right", "push", "sidekick_left", "sidekick_right", "uppercut_left", "uppercut_right",
)
DISPLAY_NAMES = (
    "Cartwheel (left)", "Cartwheel (right)", "Duck", "Hook (left)", "Hook (right)", "Jab (left)",
    "Jab (right)", "Kick (left)", "Kick (right)", "Push", "Side kick (left)", "Side kick (right)",
    "Uppercut (left)", "Uppercut (right)",
)
EXAMPLES = (1, 2)
JOINTS = 21
NUM_FEATURES = JOINTS * 3  # x, y, z of every joint
FEATURES = JOINTS * 3
_LINES_PER_FRAME = JOINTS + 1  # "####" then one line per joint
LICENSE_NOTICE = (
    "JK2017 is distributed by the University of Central Florida Research Foundation under an "
    "academic, non-commercial license (see LICENSE in github.com/ISUE/Jackknife): by downloading it "
    "you accept that license. This project does not redistribute it."
)
_NOTICE_MARKER = ".license-notice-shown"


def relative_paths() -> list[Path]:
    """The 560 training files, relative to the training folder."""
    return [Path(s) / c / f"ex_{k}.txt" for s in SUBJECTS for c in CLASSES for k in EXAMPLES]


def fetch(datapath: Path, url: str | None = None) -> Path:
    """Make sure all training files are under `datapath`; download the missing ones."""
    folder = Path(datapath) / FOLDER
    missing = [p for p in relative_paths() if not (folder / p).is_file()]
    if not missing:
        return folder
    base = (url or DEFAULT_URL).rstrip("/")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {folder} ({error.strerror}); choose a writable --datapath") from None
    marker = Path(datapath) / "jk2017" / _NOTICE_MARKER
    if not marker.exists():
        log.warning(LICENSE_NOTICE)
        marker.touch()
    log.info("downloading %d JK2017 files from %s", len(missing), base)
    try:
        download_many(
            [f"{base}/{p.as_posix()}" for p in missing],
            [folder / p for p in missing],
            description="JK2017 files",
            advice=offline_advice(URL_ENV, "the files", folder, FOLDER),
        )
    finally:
        for path in {folder / p.parent for p in missing}:
            remove_empty_folders(path, Path(datapath) / "jk2017")
    log.info("downloaded %d JK2017 files to %s", len(missing), folder)
    return folder


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
    body = np.array(lines[2:], dtype=object)
    if len(body) != frames * _LINES_PER_FRAME:
        found = len(body) / _LINES_PER_FRAME
        raise DataFormatError(
            f"{source}: header says {frames} frames but the file holds {found:g} "
            f"({len(body)} lines after the header, {_LINES_PER_FRAME} per frame)"
        )
    body = body.astype(str)
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




def load(datapath: Path, url: str | None = None) -> RawGestures:
    """Load all 560 training samples (20 subjects × 14 classes × 2), 63 features each."""
    folder = fetch(datapath, url)
    return load_folder(folder, [folder / p for p in relative_paths()])


def load_folder(folder: Path, paths: list[Path] | None = None) -> RawGestures:
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
        if class_name not in CLASSES:
            raise DataFormatError(f"{path}: unknown class folder {class_name!r}; known: {', '.join(CLASSES)}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise DataFormatError(f"{path}: cannot read ({error}); delete it to download it again") from None
        _, frames = parse_skeleton_file(text, str(path), expected_class=class_name)
        sequences.append(frames)
        labels.append(CLASSES.index(class_name))
        subjects.append(subject)
    return RawGestures(
        sequences=tuple(sequences),
        labels=np.array(labels, dtype=np.int64),
        class_names=CLASSES,
        display_names=DISPLAY_NAMES,
        subjects=tuple(subjects),
    )


def skeleton_text(class_name: str, frames: np.ndarray) -> str:
    """One skeleton gesture in JK2017's text format: the inverse of `parse_skeleton_file`."""
    joints = frames.reshape(len(frames), JOINTS, 3)
    body = "\n".join("####\n" + "\n".join(f"{x:.7g},{y:.7g},{z:.7g}" for x, y, z in frame) for frame in joints)
    return f"{class_name}\n{len(frames)}\n{body}\n"


def native_file(class_name: str, number: int, sample: np.ndarray, subject: str) -> tuple[PurePosixPath, str]:
    """Where one sample goes in the data set's own layout (relative to `--datapath`), and its text."""
    return PurePosixPath(FOLDER, f"Sub_{subject}", class_name, f"ex_{number}.txt"), skeleton_text(class_name, sample)
