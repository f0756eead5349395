"""Your own gestures: a folder with one subfolder per class, one file per sample.

    my_gestures/
      circle/  a01.csv  a02.csv  b01.npy ...
      swipe/   a01.csv  b07.xml ...
      subjects.csv        (optional: file,subject rows, e.g. "circle/a01.csv,alice")

A sample is a CSV file (one time step per row, one column per feature, an
optional header row), a `.npy` array (T, D), or a $1-style XML file. Any number
of features ≥ 1 (the same in every file) and any length ≥ 2. Classes are the
sorted folder names. Subjects (for subject-disjoint metrics) come from
`subjects.csv`, else from `--subject-pattern` (a regular expression whose first
group, searched in the file name, is the subject), else every file is its own.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path, PurePosixPath

import numpy as np

from deepnag.data.base import DataFormatError, RawGestures, is_number
from deepnag.data.dollar_gds import parse_gesture_xml
from deepnag.errors import UserError

NAME = "folder"
SUFFIXES = (".csv", ".npy", ".xml")
SUBJECTS_FILE = "subjects.csv"


def read_csv(path: Path) -> np.ndarray:
    """A CSV sample → (T, D) floats; a first row that is not numeric is a header."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise DataFormatError(f"{path}: cannot read ({error})") from None
    try:
        reader = csv.reader(io.StringIO(text))
        numbered = [(reader.line_num, r) for r in reader if r and any(c.strip() for c in r)]
    except csv.Error as error:
        raise DataFormatError(f"{path}: not a valid CSV file ({error})") from None
    if numbered and not all(is_number(c) for c in numbered[0][1]):
        numbered = numbered[1:]  # header
    lines = [n for n, _ in numbered]  # file line numbers, for messages: what an editor shows
    rows = [r for _, r in numbered]
    if not rows:
        raise DataFormatError(f"{path}: holds no data rows")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        bad = next(i for i, r in enumerate(rows) if len(r) != len(rows[0]))
        raise DataFormatError(f"{path}: line {lines[bad]} has {len(rows[bad])} columns, the first data line {len(rows[0])}")
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError:
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                if not is_number(cell):
                    raise DataFormatError(f"{path}: line {lines[i]}, column {j + 1}: {cell.strip()!r} is not a number") from None
        raise




def read_sample(path: Path) -> np.ndarray:
    """Any supported sample file → (T, D) float64, checked."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        values = read_csv(path)
    elif suffix == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise DataFormatError(f"{path}: not a readable .npy array ({str(error).splitlines()[0][:120]})") from None
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2 or not np.issubdtype(values.dtype, np.number):
            raise DataFormatError(f"{path}: expected a numeric (T, D) array, got {values.dtype} {values.shape}")
        values = values.astype(np.float64)
    else:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise DataFormatError(f"{path}: cannot read ({error.strerror})") from None
        values = parse_gesture_xml(data, str(path))[1]
    if len(values) < 2:
        raise DataFormatError(f"{path}: a gesture needs at least 2 time steps, this one has {len(values)}")
    if not np.isfinite(values).all():
        raise DataFormatError(f"{path}: holds NaN or infinite values")
    return values


def _subjects(folder: Path, files: list[Path], pattern: str) -> tuple[str, ...]:
    table = folder / SUBJECTS_FILE
    if table.is_file():
        try:
            rows = list(csv.reader(table.read_text(encoding="utf-8-sig").splitlines()))
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise DataFormatError(f"{table}: cannot read ({error})") from None
        mapping = {r[0].strip(): r[1].strip() for r in rows if len(r) >= 2 and r[0].strip() not in ("file", "")}
        missing = [f.relative_to(folder).as_posix() for f in files if f.relative_to(folder).as_posix() not in mapping]
        if missing:
            raise DataFormatError(f"{table}: no subject for {missing[0]} (and {len(missing) - 1} more files)")
        return tuple(mapping[f.relative_to(folder).as_posix()] for f in files)
    if pattern:
        try:
            regex = re.compile(pattern)
        except re.error as error:
            raise UserError(f"--subject-pattern {pattern!r} is not a valid regular expression ({error})") from None
        subjects = []
        for f in files:
            match = regex.search(f.name)
            if not match:
                raise DataFormatError(f"{f}: --subject-pattern {pattern!r} does not match its name")
            subjects.append(match.group(1) if regex.groups else match.group(0))
        return tuple(subjects)
    return tuple(f.relative_to(folder).as_posix() for f in files)


def load(folder: Path, subject_pattern: str = "") -> RawGestures:
    """Read every sample under `folder` (see the module docstring for the layout)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"--datapath {folder} is not a folder; for --dataset=folder give a folder with one subfolder per class")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataFormatError(f"{folder}: no class subfolders found; put each class's samples in a subfolder named after it")
    files, labels = [], []
    for label, name in enumerate(classes):
        found = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
        if len(found) < 2:
            raise DataFormatError(f"{folder / name}: class {name!r} has {len(found)} sample file(s); at least 2 are needed")
        files += found
        labels += [label] * len(found)
    sequences = [read_sample(f) for f in files]
    widths = np.array([s.shape[1] for s in sequences])
    if (widths != widths[0]).any():
        odd = int(np.flatnonzero(widths != widths[0])[0])
        raise DataFormatError(f"{files[odd]}: has {widths[odd]} features, but {files[0]} has {widths[0]}; all files need the same")
    return RawGestures(
        sequences=tuple(sequences),
        labels=np.array(labels, dtype=np.int64),
        class_names=tuple(classes),
        display_names=tuple(classes),
        subjects=_subjects(folder, files, subject_pattern),
    )


def csv_text(sample: np.ndarray) -> str:
    """One sample as CSV: a header `f0,f1,…`, then one row per time step (what `read_csv` reads)."""
    header = ",".join(f"f{i}" for i in range(sample.shape[1]))
    return header + "\n" + "\n".join(",".join(f"{v:.7g}" for v in row) for row in sample) + "\n"


def native_file(class_name: str, number: int, sample: np.ndarray, subject: str) -> tuple[PurePosixPath, str]:
    """Where one sample goes in the folder layout (relative to the folder), and its text."""
    return PurePosixPath(class_name, f"{subject}_{number:03d}.csv"), csv_text(sample)
