"""The $1 Unistroke Gesture Data Set (Wobbrock, Wilson and Li, UIST 2007).

On disk: `<datapath>/dollar_gds/xml_logs/<subject>/<speed>/<name>.xml`, either
extracted or still inside `<datapath>/dollar_gds/xml.zip` (read in place, so a
read-only mirror works). Missing data is downloaded from the publisher.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Iterator
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

import numpy as np

from deepnag.data.base import DataFormatError, RawGestures, is_number
from deepnag.data.download import DownloadError, download_archive

log = logging.getLogger(__name__)

NAME = "dollar-gds"
DEFAULT_URL = "http://depts.washington.edu/acelab/proj/dollar/xml.zip"
URL_ENV = "DEEPNAG_DOLLAR_GDS_URL"
FOLDER = "dollar_gds"
NUM_FEATURES = 2  # x, y
ROOT = "xml_logs"
CLASSES = (
    "arrow", "caret", "check", "circle", "delete_mark", "left_curly_brace", "left_sq_bracket",
    "pigtail", "question_mark", "rectangle", "right_curly_brace", "right_sq_bracket", "star",
    "triangle", "v", "x",
)


def parse_gesture_xml(data: bytes, source: str) -> tuple[str, np.ndarray]:
    """Parse one `<Gesture Name=..><Point X= Y= T=/>…</Gesture>` file → (label, points (T, 2)).

    The label is the Name attribute without its digits (`arrow01` → `arrow`).
    """
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise DataFormatError(f"{source}: not valid XML ({error})") from None
    if root.tag != "Gesture":
        raise DataFormatError(f"{source}: root element is <{root.tag}>, expected <Gesture>")
    name = root.get("Name")
    if not name:
        raise DataFormatError(f"{source}: <Gesture> has no Name attribute")
    label = re.sub(r"\d", "", name)
    points = root.findall("Point")
    if len(points) < 1:
        raise DataFormatError(f"{source}: gesture {name!r} has no <Point> elements")
    raw = [(p.get("X"), p.get("Y")) for p in points]
    try:
        xy = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError):
        bad = next(i for i, (x, y) in enumerate(raw) if not (is_number(x) and is_number(y)))
        raise DataFormatError(
            f"{source}: point {bad + 1} has X={raw[bad][0]!r}, Y={raw[bad][1]!r}; both must be numbers"
        ) from None
    if not np.isfinite(xy).all():
        raise DataFormatError(f"{source}: gesture {name!r} has non-finite coordinates")
    return label, xy



def _member_parts(name: str) -> tuple[str, ...]:
    return PurePosixPath(name).parts


def check_archive(path: Path) -> None:
    """Refuse anything but an intact zip of `xml_logs/…xml` members with safe paths."""
    if not zipfile.is_zipfile(path):
        raise DataFormatError(f"{path}: not a zip archive (truncated or wrong download?); delete it and retry")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            for name in names:
                parts = _member_parts(name)
                if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name) or "\\" in name:
                    raise DataFormatError(f"{path}: unsafe member path {name!r}; refusing to extract")
            if not any(_member_parts(n)[:1] == (ROOT,) and n.endswith(".xml") for n in names):
                raise DataFormatError(f"{path}: holds no {ROOT}/…xml members; not the $1-GDS archive")
            broken = archive.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise DataFormatError(f"{path}: damaged zip archive ({error}); delete it and retry") from None
    if broken is not None:
        raise DataFormatError(f"{path}: member {broken!r} fails its CRC check; delete the archive and retry")


def extract_archive(archive_path: Path, folder: Path) -> None:
    """Extract a checked archive so `folder/xml_logs` appears complete or not at all."""
    check_archive(archive_path)
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=folder))
    try:
        with zipfile.ZipFile(archive_path) as archive:
            archive.extractall(staging)
        os.replace(staging / ROOT, folder / ROOT)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _install(incoming: Path, folder: Path) -> None:
    """Check a downloaded zip and put it in place as `folder/xml.zip`."""
    check_archive(incoming)
    os.replace(incoming, folder / "xml.zip")


def fetch(datapath: Path, url: str | None = None) -> Path:
    """Make sure the data set is on disk under `datapath`; download it if not. Returns its folder."""
    folder = Path(datapath) / FOLDER
    if (folder / ROOT).is_dir() or (folder / "xml.zip").is_file():
        return folder
    download_archive(folder, "xml.zip", url or DEFAULT_URL, title="$1 Unistroke Gesture Data Set",
                     variable=URL_ENV, install=_install)
    extract_archive(folder / "xml.zip", folder)
    log.info("extracted to %s", folder / ROOT)
    return folder



def _iter_files(folder: Path) -> Iterator[tuple[str, bytes]]:
    """(relative name under xml_logs, bytes) of every XML file, from the folder or the zip."""
    if (folder / ROOT).is_dir():
        base = folder / ROOT
        for path in sorted(base.rglob("*.xml")):
            yield path.relative_to(base).as_posix(), path.read_bytes()
        return
    archive_path = folder / "xml.zip"
    check_archive(archive_path)
    with zipfile.ZipFile(archive_path) as archive:
        for name in sorted(archive.namelist()):
            parts = _member_parts(name)
            if parts[:1] == (ROOT,) and name.endswith(".xml"):
                yield "/".join(parts[1:]), archive.read(name)


def load(datapath: Path, speeds: tuple[str, ...] = ("medium",), url: str | None = None) -> RawGestures:
    """Load $1-GDS as the reference trains on it: pilot subject skipped, the given speeds."""
    folder = fetch(datapath, url)
    sequences, labels, subjects = [], [], []
    index = {c: i for i, c in enumerate(CLASSES)}
    where = folder / ROOT if (folder / ROOT).is_dir() else folder / "xml.zip"
    for relative, data in _iter_files(folder):
        parts = relative.split("/")
        if len(parts) != 3:
            continue  # not <subject>/<speed>/<file>.xml
        subject, speed, _ = parts
        if "pilot" in subject.lower() or speed.lower() not in speeds:
            continue
        label, points = parse_gesture_xml(data, f"{where}/{relative}" if where.is_dir() else f"{where}:{ROOT}/{relative}")
        if label not in index:
            raise DataFormatError(
                f"{where}/{relative}: unknown gesture class {label!r}; known: {', '.join(CLASSES)}"
            )
        sequences.append(points)
        labels.append(index[label])
        subjects.append(subject)
    if not sequences:
        raise DataFormatError(
            f"{where}: no {'/'.join(speeds)} gestures found; delete {folder} to download the data set again"
        )
    return RawGestures(
        sequences=tuple(sequences),
        labels=np.array(labels, dtype=np.int64),
        class_names=CLASSES,
        display_names=CLASSES,
        subjects=tuple(subjects),
    )


__all__ = ["NAME", "DEFAULT_URL", "URL_ENV", "CLASSES", "load", "fetch", "parse_gesture_xml",
           "check_archive", "extract_archive", "DownloadError"]


MS_PER_POINT = 10
"""Step of the `T` attribute (ms) between the points of a written gesture."""


def gesture_xml(name: str, points: np.ndarray, number: int, subject: str) -> str:
    """One gesture as a $1-GDS XML document (`T` increasing in ms): the inverse of `parse_gesture_xml`."""
    rows = "\n".join(
        f'  <Point X="{x:.3f}" Y="{y:.3f}" T="{t * MS_PER_POINT}" />' for t, (x, y) in enumerate(points[:, :2])
    )
    return (
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n'
        f"<Gesture Name={quoteattr(name)} Subject={quoteattr(subject)} Speed=\"medium\" "
        f'Number="{number}" NumPts="{len(points)}" Millseconds="{(len(points) - 1) * MS_PER_POINT}" '
        f'AppName="DeepNAG">\n{rows}\n</Gesture>\n'
    )


def native_file(class_name: str, number: int, sample: np.ndarray, subject: str) -> tuple[PurePosixPath, str]:
    """Where one sample goes in the data set's own layout (relative to `--datapath`), and its text."""
    stem = f"{class_name}{number:02d}"
    return PurePosixPath(FOLDER, ROOT, subject, "medium", f"{stem}.xml"), gesture_xml(stem, sample, number, subject)
