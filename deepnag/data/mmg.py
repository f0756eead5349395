"""Mixed Multistroke Gestures (MMG) of Anthony & Wobbrock: 16 pen and finger gestures of one to six strokes.

The data's authors: Lisa Anthony and Jacob O. Wobbrock, "A lightweight
multistroke recognizer for user interface prototypes" (GI 2010, the $N
recogniser) and "$N-Protractor: a fast and accurate multistroke recognizer"
(GI 2012), published on depts.washington.edu/acelab/proj/dollar; the $P paper
(Vatavu, Anthony & Wobbrock, ICMI 2012) evaluates on it too. This reader takes
the JSON conversion of the Gester evaluation tool (github.com/nmagrofuoco/Gester,
BSD-3, `datasets/2D/MMG/`): 19 writers (10 with a stylus, 9 with a finger; the
original's 20th is missing there), three speeds, about 10 samples per class,
writer and speed, 9,128 samples in all.

On disk: `<datapath>/mmg/MMG/{Pen|Finger}/<subject>/<subject>-{stylus|finger}-{SLOW|MEDIUM|FAST}/
<class><strokes>-<rep>.json`, either extracted or inside `<datapath>/mmg/mmg.tar.xz`,
read in place as a stream (nothing is extracted, so a read-only mirror works;
any prefix before `MMG/` is accepted, and any tar compression). Each file is a
JSON object whose `paths.Pen.strokes` (or `paths.Finger.strokes`) lists the
points `{x, y, t, stroke_id, ...}`: integer pixels with y down, t in ms, 0-based
stroke ids rising by one at each new stroke.

Download: `DEFAULT_URL` is GitHub's tarball of the Gester repository at the
commit the shared copy came from (the whole repository: the publisher's own
`mmg.zip` holds the original XML logs, another format). Anything downloaded
that is not xz-compressed (that tarball) is repacked once into `mmg.tar.xz`
with the MMG members only; a mirror (`DEEPNAG_MMG_URL` or `--download-url`)
may serve such an `mmg.tar.xz` directly, e.g. a copy of the one `fetch` writes.

Samples are (T, 3) arrays: x, y and a pen state, the strokes joined in drawing
order. The pen state of point i says how the pen reached it: 1 (down) along
the stroke, 0 (up) at the first point of every stroke after the first, whose
incoming segment is the jump from the previous stroke's last point. The first
point of a sample has 1 (nothing arrives there). `strokes_of` splits a sample
before every point i ≥ 1 whose pen state is below 0.5 (so generated,
continuous pen states split too) and `sample_of` joins strokes back: the two
invert each other exactly on the data. Subjects are the writers' ids ("10",
"41"), unique across the two devices.
"""

from __future__ import annotations

import io
import json
import logging
import lzma
import os
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from deepnag.data.base import DataFormatError, RawGestures, is_number
from deepnag.data.download import download_archive
from deepnag.errors import UserError
from deepnag.flag_types import DOLLAR_GDS_SPEEDS, MMG_DEVICES

log = logging.getLogger(__name__)

NAME = "mmg"
GESTER_COMMIT = "cd24525018a3007b769f100518e9bfc6bf982e2c"
DEFAULT_URL = f"https://github.com/nmagrofuoco/Gester/archive/{GESTER_COMMIT}.tar.gz"
URL_ENV = "DEEPNAG_MMG_URL"
FOLDER = "mmg"
ARCHIVE = "mmg.tar.xz"
ROOT = "MMG"
NUM_FEATURES = 3  # x, y, pen state
SPEEDS = DOLLAR_GDS_SPEEDS
DEVICES = MMG_DEVICES
DEVICE_FOLDERS = {"pen": ("Pen", "stylus"), "finger": ("Finger", "finger")}
"""Each device's folder under MMG/ and the word in its session folders' names."""
CLASSES = (
    "D", "H", "I", "N", "P", "T", "X", "arrowhead", "asterisk", "exclamation_point", "five_point_star",
    "half_note", "line", "null", "pitchfork", "six_point_star",
)
DISPLAY_NAMES = tuple(c.replace("five_point", "five-point").replace("six_point", "six-point").replace("_", " ")
                      for c in CLASSES)
PEN_DOWN, PEN_UP = 1.0, 0.0
PEN_THRESHOLD = 0.5
"""A point whose pen state is below this starts a new stroke (generated pen states are continuous)."""
_FILE_NAME = re.compile(r"^([A-Za-z_]+?)(\d+)-(\d+)\.json$")
_XZ_MAGIC = b"\xfd7zXZ\x00"


# ----------------------------------------------------------------------------------------------------------------------
# Pen state
# ----------------------------------------------------------------------------------------------------------------------
def pen_up_before(sample: np.ndarray) -> np.ndarray:
    """(T,) bool: whether the pen was up on the way to each point (a new stroke starts there); never the first."""
    sample = np.asarray(sample)
    if sample.ndim != 2 or sample.shape[1] not in (2, 3):
        raise ValueError(f"a sample is (T, 2) or (T, 3) (x, y, pen state), got {sample.shape}")
    if sample.shape[1] == 2 or len(sample) == 0:
        return np.zeros(len(sample), dtype=bool)
    jumps = sample[:, 2] < PEN_THRESHOLD
    jumps[0] = False
    return jumps


def stroke_ids(sample: np.ndarray) -> np.ndarray:
    """(T,) int: each point's 0-based stroke index, from the pen state."""
    return np.cumsum(pen_up_before(sample))


def strokes_of(sample: np.ndarray) -> list[np.ndarray]:
    """A (T, 3) sample (or a (T, 2) single stroke) as its strokes, a list of (T_i, 2) arrays in drawing order."""
    sample = np.asarray(sample)
    return np.split(sample[:, :2], np.flatnonzero(pen_up_before(sample)))


def sample_of(strokes: Sequence[np.ndarray]) -> np.ndarray:
    """Strokes ((T_i, 2) arrays, in drawing order) as one (ΣT_i, 3) sample: the inverse of `strokes_of`."""
    if len(strokes) == 0 or any(len(s) == 0 for s in strokes):
        raise ValueError("a sample needs at least one stroke, and every stroke a point")
    xy = np.concatenate([np.asarray(s, dtype=np.float64)[:, :2] for s in strokes])
    pen = np.full(len(xy), PEN_DOWN)
    pen[np.cumsum([len(s) for s in strokes])[:-1]] = PEN_UP
    return np.column_stack([xy, pen])


# ----------------------------------------------------------------------------------------------------------------------
# One file
# ----------------------------------------------------------------------------------------------------------------------
def _points_of(document: object, source: str) -> list:
    """The point list of a parsed gesture file, or a one-line error naming the file."""
    paths = document.get("paths") if isinstance(document, dict) else None
    for device in ("Pen", "Finger"):
        entry = paths.get(device) if isinstance(paths, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("strokes"), list):
            if not entry["strokes"]:
                raise DataFormatError(f"{source}: gesture has no points; replace the file with a good copy of the "
                                      "data set")
            return entry["strokes"]
    raise DataFormatError(f"{source}: no paths.Pen.strokes or paths.Finger.strokes list; not an MMG gesture file "
                          "(replace it with a good copy of the data set)")


def _point_array(points: list, source: str) -> np.ndarray:
    """(T, 3) float64 of x, y, stroke_id, with errors naming the first bad point."""
    raw = [(p.get("x"), p.get("y"), p.get("stroke_id")) if isinstance(p, dict) else (p, None, None) for p in points]
    try:
        array = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or not np.isfinite(array).all():
        bad = next(i for i, row in enumerate(raw) if not all(is_number(v) and np.isfinite(float(v)) for v in row))
        x, y, stroke = raw[bad]
        raise DataFormatError(f"{source}: point {bad + 1} has x={x!r}, y={y!r}, stroke_id={stroke!r}; all three must "
                              "be finite numbers (replace the file with a good copy of the data set)")
    return array


def _check_stroke_ids(ids: np.ndarray, source: str) -> None:
    """Stroke ids must be whole numbers starting at 0 and rising by one at each new stroke."""
    steps = np.diff(ids)
    wrong = np.flatnonzero((steps != 0) & (steps != 1))
    if ids[0] != 0 or (ids != np.round(ids)).any() or len(wrong):
        if ids[0] != 0:
            what = f"starts at {ids[0]:g}"
        elif len(wrong):
            what = f"goes from {ids[wrong[0]]:g} to {ids[wrong[0] + 1]:g} at point {wrong[0] + 2}"
        else:
            what = f"is {ids[np.flatnonzero(ids != np.round(ids))[0]]:g}"
        raise DataFormatError(f"{source}: stroke_id {what}; stroke ids start at 0 and rise by one at each new "
                              "stroke, in drawing order (replace the file with a good copy of the data set)")


def parse_gesture_json(data: bytes, source: str) -> tuple[str | None, np.ndarray]:
    """Parse one MMG gesture file → (its `name` field, the (T, 3) sample: x, y, pen state)."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise DataFormatError(f"{source}: not valid JSON ({error}); replace the file with a good copy of the "
                              "data set") from None
    array = _point_array(_points_of(document, source), source)
    _check_stroke_ids(array[:, 2], source)
    pen = np.full(len(array), PEN_DOWN)
    pen[1:][np.diff(array[:, 2]) == 1] = PEN_UP
    name = document.get("name")
    return (name if isinstance(name, str) else None), np.column_stack([array[:, :2], pen])


# ----------------------------------------------------------------------------------------------------------------------
# The archive, read as a stream
# ----------------------------------------------------------------------------------------------------------------------
def relative_name(member: str) -> str | None:
    """A member's path under its `MMG/` folder (`Pen/10/10-stylus-MEDIUM/D2-0.json`), or None outside one."""
    parts = PurePosixPath(member).parts
    if ROOT not in parts[:-1]:
        return None
    return "/".join(parts[parts.index(ROOT) + 1:])


class ArchiveError(DataFormatError):
    """An archive that is damaged, not a tar, or not MMG's: `reason` says which, the message also what to do."""

    def __init__(self, path: Path, reason: str, advice: str = "delete it and download it again") -> None:
        super().__init__(f"{path}: {reason}; {advice}")
        self.reason = reason


_ARCHIVE_ERRORS = (tarfile.TarError, EOFError, lzma.LZMAError, zlib.error, OSError)


def _archive_members(path: Path) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    """Every regular member of a tar archive (any compression), streamed; damage is a one-line error."""
    try:
        archive = tarfile.open(path, mode="r|*")
    except _ARCHIVE_ERRORS as error:
        raise ArchiveError(path, f"not a tar archive ({error})", "truncated or the wrong download? Delete it and "
                           "download it again") from None
    try:
        with archive:
            for member in archive:
                if member.isfile():
                    yield archive, member
    except _ARCHIVE_ERRORS as error:
        raise ArchiveError(path, f"damaged or truncated archive ({error})") from None


def _member_bytes(archive: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> bytes:
    """The contents of the member the stream is at; damage is a one-line error."""
    try:
        return archive.extractfile(member).read()  # type: ignore[union-attr]  # a regular file
    except _ARCHIVE_ERRORS as error:
        raise ArchiveError(path, f"damaged or truncated archive ({error})") from None


def _foreign(path: Path) -> ArchiveError:
    return ArchiveError(path, f"holds no {ROOT}/…json members, so it is not the MMG archive",
                        f"delete it and download the data set again (or set {URL_ENV} to an archive of the MMG/ folder)")


def _iter_archive(archive_path: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, str, bytes]]:
    """(path under MMG/, name for messages, bytes) of every wanted JSON member of an archive, in archive order."""
    found = False
    for archive, member in _archive_members(archive_path):
        relative = relative_name(member.name)
        if relative is None or not relative.endswith(".json"):
            continue
        found = True
        if wanted(relative):
            yield relative, f"{archive_path}:{member.name}", _member_bytes(archive, member, archive_path)
    if not found:
        raise _foreign(archive_path)


def iter_files(folder: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, str, bytes]]:
    """(path under MMG/, name for messages, bytes) of every wanted JSON file, from `folder`/MMG/ or its archive."""
    if (folder / ROOT).is_dir():
        base = folder / ROOT
        for path in sorted(base.rglob("*.json")):
            relative = path.relative_to(base).as_posix()
            if wanted(relative):
                yield relative, str(path), path.read_bytes()
        return
    yield from _iter_archive(folder / ARCHIVE, wanted)


def check_archive(path: Path) -> int:
    """The number of MMG gesture files in an archive; a damaged or foreign one is refused."""
    return sum(1 for _ in _iter_archive(path, lambda relative: True))


def repack(source: Path, target: Path) -> int:
    """Write the MMG members of any tar archive (e.g. the Gester repository's) to `target`, an xz tar of
    `mmg/MMG/…` members; returns their number (a foreign archive is refused and leaves no target)."""
    count = 0
    try:
        with tarfile.open(target, mode="w:xz", preset=1) as out:
            for archive, member in _archive_members(source):
                relative = relative_name(member.name)
                if relative is not None and relative.endswith(".json"):
                    member.name = f"{FOLDER}/{ROOT}/{relative}"
                    out.addfile(member, io.BytesIO(_member_bytes(archive, member, source)))
                    count += 1
        if not count:
            raise _foreign(source)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return count


# ----------------------------------------------------------------------------------------------------------------------
# The data set
# ----------------------------------------------------------------------------------------------------------------------
def _install(incoming: Path, folder: Path) -> None:
    """Check a downloaded archive and put it in place as `folder/mmg.tar.xz` (repacked unless it is xz)."""
    with open(incoming, "rb") as f:
        is_xz = f.read(len(_XZ_MAGIC)) == _XZ_MAGIC
    if is_xz:
        count = check_archive(incoming)
        os.replace(incoming, folder / ARCHIVE)
    else:
        staging = folder / (ARCHIVE + ".repack")
        log.info("keeping the %s/ folder of %s in %s", ROOT, incoming.name, folder / ARCHIVE)
        count = repack(incoming, staging)
        os.replace(staging, folder / ARCHIVE)
    log.info("%s holds %d MMG gesture files", folder / ARCHIVE, count)


def fetch(datapath: Path, url: str | None = None) -> Path:
    """Make sure the data set is on disk under `datapath`; download it if not. Returns its folder."""
    folder = Path(datapath) / FOLDER
    if (folder / ROOT).is_dir() or (folder / ARCHIVE).is_file():
        return folder
    url = url or DEFAULT_URL
    try:
        download_archive(folder, ARCHIVE, url, title="Mixed Multistroke Gestures (Anthony & Wobbrock)",
                         variable=URL_ENV, install=_install)
    except ArchiveError as error:
        raise DataFormatError(f"{url} did not give the MMG archive: its download {error.reason}; check the address "
                              f"(--download-url or {URL_ENV})") from None
    return folder


def _selector(speeds: Sequence[str], device: str) -> Callable[[str], bool]:
    """Whether a path under MMG/ (`Pen/10/10-stylus-MEDIUM/D2-0.json`) is of the chosen devices and speeds."""
    unknown = [s for s in speeds if s not in SPEEDS]
    if device not in DEVICES or unknown or not speeds:
        raise UserError(f"MMG has devices {', '.join(DEVICES)} and speeds {', '.join(SPEEDS)}; got device "
                        f"{device!r} and speeds {', '.join(speeds) or 'none'}")
    sessions = {(DEVICE_FOLDERS[d][0], f"{DEVICE_FOLDERS[d][1]}-{s.upper()}")
                for d in (("pen", "finger") if device == "both" else (device,)) for s in speeds}

    def wanted(relative: str) -> bool:
        parts = relative.split("/")
        return len(parts) == 4 and (parts[0], parts[2].removeprefix(f"{parts[1]}-")) in sessions

    return wanted


def _label(relative: str, source: str) -> int:
    """The class index of a gesture file, from its name (`five_point_star1-2.json` → five_point_star)."""
    match = _FILE_NAME.match(relative.rsplit("/", 1)[-1])
    if match is None:
        raise DataFormatError(f"{source}: file name is not <class><strokes>-<rep>.json; rename or remove the file")
    if match.group(1) not in CLASSES:
        raise DataFormatError(f"{source}: unknown gesture class {match.group(1)!r}; known: {', '.join(CLASSES)}")
    return CLASSES.index(match.group(1))


def load(datapath: Path, speeds: tuple[str, ...] = ("medium",), device: str = "both",
         url: str | None = None) -> RawGestures:
    """Load MMG: the given speeds of the pen, finger or both recordings, as (T, 3) samples (x, y, pen state)."""
    wanted = _selector(speeds, device)
    folder = fetch(datapath, url)
    read = sorted((relative, _label(relative, source), parse_gesture_json(data, source)[1])
                  for relative, source, data in iter_files(folder, wanted))
    if not read:
        where = folder / ROOT if (folder / ROOT).is_dir() else folder / ARCHIVE
        raise DataFormatError(f"{where}: no {device} {'/'.join(speeds)} gestures found; delete {folder} to "
                              "download the data set again")
    return RawGestures(
        sequences=tuple(sample for _, _, sample in read),
        labels=np.array([label for _, label, _ in read], dtype=np.int64),
        class_names=CLASSES,
        display_names=DISPLAY_NAMES,
        subjects=tuple(relative.split("/")[1] for relative, _, _ in read),
    )


# ----------------------------------------------------------------------------------------------------------------------
# The writer
# ----------------------------------------------------------------------------------------------------------------------
MS_PER_POINT = 10
"""Step of `t` (ms) between the points of a written gesture."""
_NULL_FIELDS = ("w", "z", "alpha", "beta", "gamma")


def gesture_json(name: str, sample: np.ndarray, subject: str) -> str:
    """One (T, 3) sample (or a (T, 2) single stroke) as an MMG gesture file: the inverse of `parse_gesture_json`."""
    sample = np.asarray(sample, dtype=np.float64)
    ids = stroke_ids(sample).tolist()
    points = [{"x": round(float(x), 3), "y": round(float(y), 3), **dict.fromkeys(_NULL_FIELDS),
               "t": i * MS_PER_POINT, "stroke_id": s} for i, ((x, y), s) in enumerate(zip(sample[:, :2], ids))]
    return json.dumps({"name": name, "subject": subject, "date": None, "paths": {"Pen": {"strokes": points}}})


def native_file(class_name: str, number: int, sample: np.ndarray, subject: str) -> tuple[PurePosixPath, str]:
    """Where one sample goes in the data set's own layout (relative to `--datapath`), and its text: a stylus
    recording at medium speed, `<class><strokes>-<number>.json`."""
    strokes = int(stroke_ids(sample)[-1]) + 1 if len(sample) else 0
    folder, word = DEVICE_FOLDERS["pen"]
    path = PurePosixPath(FOLDER, ROOT, folder, subject, f"{subject}-{word}-MEDIUM", f"{class_name}{strokes}-{number}.json")
    return path, gesture_json(class_name, sample, subject)


__all__ = ["NAME", "DEFAULT_URL", "URL_ENV", "FOLDER", "ARCHIVE", "CLASSES", "DISPLAY_NAMES", "NUM_FEATURES",
           "SPEEDS", "DEVICES", "ArchiveError", "load", "fetch", "check_archive", "repack", "iter_files", "parse_gesture_json",
           "gesture_json", "native_file", "strokes_of", "sample_of", "stroke_ids", "pen_up_before"]
