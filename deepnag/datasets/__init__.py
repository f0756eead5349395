"""Data-set readers: one module per data set, each with `fetch` (download) and `load`."""

from __future__ import annotations

import os
from pathlib import Path

from deepnag.datasets import dollar_gds, folder, jk2017
from deepnag.datasets.base import DataFormatError, RawGestures

READERS = {dollar_gds.NAME: dollar_gds, jk2017.NAME: jk2017, folder.NAME: folder}
SKELETON_DATASETS = (jk2017.NAME,)


def load_raw(
    name: str,
    datapath: str | Path,
    *,
    speeds: tuple[str, ...] = ("medium",),
    download_url: str | None = None,
    subject_pattern: str = "",
) -> RawGestures:
    """Read data set `name` from `datapath`, downloading it first if it is not there.

    The mirror is `download_url`, else the data set's environment variable, else
    the publisher's address. The `folder` data set is read from `datapath` itself.
    """
    reader = READERS[name]
    if reader is folder:
        return folder.load(Path(datapath), subject_pattern)
    url = download_url or os.environ.get(reader.URL_ENV) or None
    if reader is dollar_gds:
        return dollar_gds.load(Path(datapath), speeds=speeds, url=url)
    return jk2017.load(Path(datapath), url=url)


__all__ = ["READERS", "load_raw", "RawGestures", "DataFormatError"]
