"""Downloads (HTTP, or a copy from a local mirror) that never leave a partial file where a loader would trust it.

Each file is streamed into a temporary `*.part` file beside its destination and
renamed into place only once it is complete (size checked against the server's
Content-Length). Network hiccups are retried a few times; a 4xx answer is not.
A mirror may also be a folder or file on this machine: a `file://` URL or a plain path.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Sequence

import requests
from tqdm import tqdm

from deepnag.errors import UserError

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0
RETRIES = 3
CHUNK = 1 << 16
_BACKOFF_S = 0.5
ADVICE = "check the network or use a mirror with --download-url"


class DownloadError(UserError):
    """A file could not be fetched; the message names the URL and what to do."""


def _fetch_once(session: requests.Session, url: str, part: Path, byte_bar: tqdm | None) -> None:
    with session.get(url, stream=True, timeout=TIMEOUT_S) as response:
        if 400 <= response.status_code < 500:
            raise DownloadError(
                f"{url} answered HTTP {response.status_code}; check the address "
                "(--download-url or the data set's environment variable)"
            )
        response.raise_for_status()
        expected = response.headers.get("Content-Length")
        if byte_bar is not None:
            byte_bar.reset(total=int(expected) if expected is not None else None)
        received = 0
        with open(part, "wb") as out:
            for chunk in response.iter_content(CHUNK):
                out.write(chunk)
                received += len(chunk)
                if byte_bar is not None:
                    byte_bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if expected is not None and received != int(expected):
            raise requests.exceptions.ChunkedEncodingError(
                f"transfer ended after {received} of {expected} bytes"
            )


def local_source(url: str) -> Path | None:
    """The file a `file://` URL or a plain path names; None for a network address."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return Path(urllib.request.url2pathname(parsed.path))
    if parsed.scheme in ("http", "https", "ftp"):
        return None
    return Path(url)  # no scheme (or a Windows drive letter): a path


def _copy_local(source: Path, url: str, part: Path, destination: Path) -> Path:
    """Copy a local mirror's file into place the way a download lands: whole, or not at all."""
    if not source.is_file():
        raise DownloadError(f"the mirror file {source} (from {url}) does not exist; check the path given with "
                            "--download-url or the data set's environment variable")
    try:
        with open(source, "rb") as src, open(part, "wb") as out:
            shutil.copyfileobj(src, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, destination)
    except OSError as error:
        raise DownloadError(f"cannot copy {source} to {destination} ({error.strerror})") from None
    return destination


def first_existing(path: Path) -> Path:
    """`path` or its nearest ancestor that exists: where removing empty folders made by a failed download stops."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def download_file(
    url: str,
    destination: Path,
    *,
    session: requests.Session | None = None,
    byte_bar: tqdm | None = None,
    retries: int = RETRIES,
    advice: str = ADVICE,
) -> Path:
    """Download `url` to `destination` atomically, retrying transient failures.

    `byte_bar`, if given, is reset to the file's size and advanced per chunk;
    `advice` ends the error message (what the user can do instead).
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    source = local_source(url)
    session = session or requests.Session()
    last_error: Exception | None = None
    try:
        if source is not None:
            return _copy_local(source, url, part, destination)
        for attempt in range(1, retries + 1):
            try:
                _fetch_once(session, url, part, byte_bar)
                os.replace(part, destination)
                return destination
            except DownloadError:
                raise
            except (requests.exceptions.RequestException, OSError) as error:
                last_error = error
                log.debug("download of %s failed (attempt %d/%d): %s", url, attempt, retries, error)
                if attempt < retries:
                    time.sleep(_BACKOFF_S * attempt)
        raise DownloadError(f"could not download {url} after {retries} attempts ({reason(last_error)}); {advice}")
    finally:
        part.unlink(missing_ok=True)


def download_many(
    urls: Sequence[str], destinations: Sequence[Path], *, description: str, retries: int = RETRIES, advice: str = ADVICE
) -> None:
    """Download several files under one progress bar (counted in files).

    Files already present are kept; each new file is renamed into place only when
    complete, so an interrupted run resumes where it stopped.
    """
    todo = [(u, Path(d)) for u, d in zip(urls, destinations) if not Path(d).is_file()]
    if not todo:
        return
    with requests.Session() as session, tqdm(
        total=len(todo), desc=description, unit="file", disable=None, leave=False
    ) as bar:
        for url, destination in todo:
            download_file(url, destination, session=session, retries=retries, advice=advice)
            bar.update(1)


def download_with_progress(url: str, destination: Path, *, description: str, retries: int = RETRIES,
                           advice: str = ADVICE) -> Path:
    """Download one (large) file with a byte progress bar."""
    with requests.Session() as session, tqdm(
        desc=description, unit="B", unit_scale=True, unit_divisor=1024, disable=None, leave=False
    ) as bar:
        return download_file(url, destination, session=session, byte_bar=bar, retries=retries, advice=advice)


def download_archive(folder: Path, archive: str, url: str, *, title: str, variable: str,
                     install: Callable[[Path, Path], None]) -> Path:
    """Download a data set's archive into `folder` (created if need be) as `folder/archive`, returned.

    The bytes go to `archive.download` first; `install(incoming, folder)` checks
    them and moves them into place. Whatever fails, the download file is removed,
    and so are the folders this made (up to the first that existed): nothing half
    written is left where a loader would trust it.
    """
    existed = first_existing(folder.parent)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {folder} ({error.strerror}); choose a writable --datapath") from None
    log.info("downloading the %s from %s", title, url)
    incoming = folder / (archive + ".download")
    try:
        download_with_progress(url, incoming, description=archive,
                               advice=offline_advice(variable, archive, folder, folder.name))
        install(incoming, folder)
    finally:
        incoming.unlink(missing_ok=True)
        remove_empty_folders(folder.absolute(), existed)
    log.info("downloaded %s (%.1f MB)", folder / archive, (folder / archive).stat().st_size / 2**20)
    return folder / archive


def reason(error: Exception | None) -> str:
    """Why a transfer failed, in a few whole words (requests' own messages run to hundreds of characters)."""
    if error is None:
        return "unknown error"
    text = str(error)
    if isinstance(error, requests.exceptions.ConnectionError):
        if "NameResolution" in text or "Name or service not known" in text or "getaddrinfo" in text:
            return "the host name could not be resolved: no network, or a wrong address"
        if "refused" in text.lower():
            return "the connection was refused"
        return "no connection to the server"
    if isinstance(error, requests.exceptions.Timeout):
        return f"no answer within {TIMEOUT_S:.0f} s"
    if isinstance(error, requests.exceptions.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code}"
    if isinstance(error, OSError) and not isinstance(error, requests.exceptions.RequestException) and error.strerror:
        return error.strerror
    first = text.splitlines()[0] if text else type(error).__name__
    return first if len(first) <= 120 else type(error).__name__


def offline_advice(variable: str, what: str, folder: Path, layout: str | Path) -> str:
    """What to do when a data set's download fails: a mirror, or the files put in place by hand."""
    return (f"check the network, set {variable} or --download-url to a mirror, or put {what} in {folder} yourself "
            f"(or point --datapath at a folder holding {Path(layout).as_posix()}/)")


def remove_empty_folders(folder: Path, stop: Path) -> None:
    """Remove `folder` and its parents up to (not including) `stop` while they are empty: a failed first download
    leaves no empty data-set folder behind to be mistaken for data."""
    folder, stop = Path(folder), Path(stop)
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty, or not ours to remove
            return
        folder = folder.parent
