"""The data sets: one module per data set, each with `load` (and `fetch`, a download) and `native_file` (a writer)."""

from __future__ import annotations

import logging
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from deepnag.config import Config
from deepnag.data import dollar_gds, folder, jk2017, mmg, subjects
from deepnag.data.base import DataFormatError, RawGestures

log = logging.getLogger(__name__)

DEFAULT_DATAPATH = Config.datapath
"""The --datapath default (the reference's): it names the default data folder below, from any working directory."""
DATA_ENV = "DEEPNAG_DATA"


def resolve_datapath(datapath: str | Path) -> Path:
    """Where data set files are: `data` (the default) means $DEEPNAG_DATA, else the checkout's data/, else a user folder.

    From a source checkout the default is the project's own `data/` folder, whatever
    the working directory; an installed package uses `$XDG_CACHE_HOME/deepnag/data`
    (`~/.cache/deepnag/data`). Any other value, `./data` included, is taken as given.
    """
    if str(datapath) != DEFAULT_DATAPATH:
        return Path(datapath)
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / "README.md").is_file() and (checkout.parent / "main.py").is_file():
        return checkout
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "deepnag" / "data"


READERS = {dollar_gds.NAME: dollar_gds, **{s.NAME: s for s in jk2017.SETS}, mmg.NAME: mmg, folder.NAME: folder}
SKELETON_FIGURES = {s.NAME: s.FIGURE for s in jk2017.SETS}
"""The data sets whose samples are 21-joint skeletons, and which skeleton figures draw ("body" or "hand")."""


def load_raw(
    name: str,
    datapath: str | Path,
    *,
    speeds: tuple[str, ...] = ("medium",),
    mmg_device: str = "both",
    download_url: str | None = None,
    subject_pattern: str = "",
) -> RawGestures:
    """Read data set `name` from `datapath`, downloading it first if it is not there.

    The mirror is `download_url`, else the data set's environment variable, else
    the publisher's address. The `folder` data set is read from `datapath` itself.
    """
    reader = READERS[name]
    if reader is folder:
        log.debug("reading your gestures from %s", Path(datapath).resolve())
        return folder.load(Path(datapath), subject_pattern)
    datapath = resolve_datapath(datapath)
    log.debug("reading %s from %s", name, Path(datapath).resolve())
    url = download_url or os.environ.get(reader.URL_ENV) or None
    if reader is dollar_gds:
        return dollar_gds.load(Path(datapath), speeds=speeds, url=url)
    if reader is mmg:
        return mmg.load(Path(datapath), speeds=speeds, device=mmg_device, url=url)
    return reader.load(Path(datapath), url=url)


def native_file(name: str, class_name: str, number: int, sample: "np.ndarray", subject: str) -> tuple[PurePosixPath, str]:
    """Data set `name`'s writer: the relative path and text of one sample in its own file layout."""
    return READERS[name].native_file(class_name, number, sample, subject)


__all__ = ["subjects", "SKELETON_FIGURES", "DATA_ENV", "DEFAULT_DATAPATH", "READERS", "native_file", "resolve_datapath", "load_raw", "RawGestures", "DataFormatError"]
