"""Downloads against a local HTTP server serving the real data sets."""

from __future__ import annotations

import logging
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from deepnag.data import DataFormatError, dollar_gds, download, jk2017, load_raw
from deepnag.data.download import DownloadError


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(download, "_BACKOFF_S", 0.0)


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith((".part", ".download")) or p.name.startswith(".extract-")]


def test_dollar_gds_downloads_extracts_and_loads(shared_data, serve, tmp_path, caplog):
    server = serve(shared_data)
    with caplog.at_level(logging.INFO, logger="deepnag"):
        raw = load_raw("dollar-gds", tmp_path, download_url=f"{server.url}/dollar_gds/xml.zip")
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"downloaded {tmp_path / 'dollar_gds' / 'xml.zip'} (") and m.endswith(" MB)") for m in said)
    assert f"extracted to {tmp_path / 'dollar_gds' / 'xml_logs'}" in said
    assert len(raw.sequences) == 1600
    assert (tmp_path / "dollar_gds" / "xml_logs" / "s02" / "medium" / "arrow01.xml").is_file()
    assert not _leftovers(tmp_path)
    # Second load: data on disk, no network at all.
    server.requests.clear()
    again = load_raw("dollar-gds", tmp_path, download_url="http://127.0.0.1:9/unreachable.zip")
    assert len(again.sequences) == 1600 and server.requests == []


def test_dollar_gds_url_from_environment_variable(shared_data, serve, tmp_path, monkeypatch):
    server = serve(shared_data)
    monkeypatch.setenv(dollar_gds.URL_ENV, f"{server.url}/dollar_gds/xml.zip")
    raw = load_raw("dollar-gds", tmp_path)
    assert len(raw.sequences) == 1600
    assert server.requests == ["/dollar_gds/xml.zip"]


def test_404_is_a_clear_error_and_leaves_nothing(shared_data, serve, tmp_path):
    server = serve(shared_data)
    with pytest.raises(DownloadError, match=r"HTTP 404.*--download-url"):
        load_raw("dollar-gds", tmp_path, download_url=f"{server.url}/nope/xml.zip")
    folder = tmp_path / "dollar_gds"
    assert not (folder / "xml.zip").exists() and not (folder / "xml_logs").exists()
    assert not _leftovers(tmp_path)
    assert len(server.requests) == 1  # a 404 is not retried


def test_truncated_zip_is_refused_and_leaves_nothing(shared_data, serve, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    data = (shared_data / "dollar_gds" / "xml.zip").read_bytes()
    (mirror / "xml.zip").write_bytes(data[: len(data) // 2])
    server = serve(mirror)
    target = tmp_path / "data"
    with pytest.raises(DataFormatError, match="not a zip archive"):
        load_raw("dollar-gds", target, download_url=f"{server.url}/xml.zip")
    assert not (target / "dollar_gds" / "xml.zip").exists()
    assert not (target / "dollar_gds" / "xml_logs").exists()
    assert not _leftovers(target)


def test_zip_with_parent_member_is_refused(serve, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with zipfile.ZipFile(mirror / "xml.zip", "w") as archive:
        archive.writestr("xml_logs/s02/medium/arrow01.xml", '<Gesture Name="arrow01"><Point X="1" Y="2" T="0"/></Gesture>')
        archive.writestr("../evil.txt", "owned")
    server = serve(mirror)
    target = tmp_path / "data"
    with pytest.raises(DataFormatError, match=r"unsafe member path '\.\./evil\.txt'"):
        load_raw("dollar-gds", target, download_url=f"{server.url}/xml.zip")
    assert not list(tmp_path.rglob("evil.txt"))
    assert not (target / "dollar_gds" / "xml_logs").exists()
    assert not (target / "dollar_gds" / "xml.zip").exists()


def test_transfer_cut_short_is_retried_then_reported_without_partial_file(shared_data, serve, tmp_path):
    server = serve(shared_data)

    def cut_short(handler) -> bool:
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        handler.wfile.write(b"PK\x03\x04" + b"\0" * 500)
        handler.close_connection = True
        return True

    server.set_fault(cut_short)
    with pytest.raises(DownloadError, match=r"after 3 attempts"):
        load_raw("dollar-gds", tmp_path, download_url=f"{server.url}/dollar_gds/xml.zip")
    assert len(server.requests) == 3
    assert not (tmp_path / "dollar_gds" / "xml.zip").exists()
    assert not _leftovers(tmp_path)


def test_jk2017_interrupted_download_resumes_keeping_complete_files(shared_data, serve, tmp_path, caplog):
    server = serve(shared_data / "jk2017" / "kinect" / "training")
    served = 0

    def fail_after_50(handler) -> bool:
        nonlocal served
        served += 1
        if served <= 50:
            return False
        handler.send_error(503, "maintenance")
        return True

    server.set_fault(fail_after_50)
    with caplog.at_level(logging.INFO, logger="deepnag"):
        with pytest.raises(DownloadError, match=r"could not download .*ex_\d\.txt"):
            load_raw("jk2017-kinect", tmp_path, download_url=server.url)
    assert sum("non-commercial" in r.message for r in caplog.records) == 1
    folder = tmp_path / jk2017.KINECT.FOLDER
    kept = sorted(p for p in folder.rglob("*.txt"))
    assert len(kept) == 50
    source = shared_data / jk2017.KINECT.FOLDER
    assert all(p.read_bytes() == (source / p.relative_to(folder)).read_bytes() for p in kept)
    assert not _leftovers(tmp_path)

    server.set_fault(None)
    server.requests.clear()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="deepnag"):
        raw = load_raw("jk2017-kinect", tmp_path, download_url=server.url)
    assert len(raw.sequences) == 560
    assert len(server.requests) == 560 - 50  # complete files are kept, not fetched again
    assert f"downloaded 510 JK2017 Kinect files to {tmp_path / jk2017.KINECT.FOLDER}" in [r.getMessage() for r in caplog.records]
    # the notice again (the first attempt did not finish), then never: a finished download marks it shown
    assert sum("non-commercial" in r.message for r in caplog.records) == 1
    assert (tmp_path / "jk2017" / ".license-notice-shown").is_file()
    caplog.clear()
    (folder / "Sub_U104" / "cartwheel_left" / "ex_1.txt").unlink()
    with caplog.at_level(logging.INFO, logger="deepnag"):
        load_raw("jk2017-kinect", tmp_path, download_url=server.url)
    assert not any("non-commercial" in r.message for r in caplog.records)
    assert all(re.fullmatch(r"/Sub_U\d{3}/[a-z_]+/ex_[12]\.txt", r) for r in server.requests)  # the publisher's URL layout


def test_jk2017_leap_downloads_from_the_mirror_its_variable_names(shared_data, serve, tmp_path, monkeypatch, caplog):
    """The Leap Motion set: every file fetched from DEEPNAG_JK2017_LEAP_URL in the publisher's layout, then read."""
    server = serve(shared_data / jk2017.LEAP.FOLDER)
    monkeypatch.setenv("DEEPNAG_JK2017_LEAP_URL", server.url)
    monkeypatch.setenv("DEEPNAG_JK2017_URL", "http://127.0.0.1:9/not-this-one")
    with caplog.at_level(logging.INFO, logger="deepnag"):
        raw = load_raw("jk2017-leap", tmp_path)
    assert len(raw.sequences) == 360 and len(server.requests) == 360
    assert all(re.fullmatch(r"/Sub_U\d{3}/[a-z_0-9]+/ex_[12]\.txt", r) for r in server.requests)
    assert f"downloaded 360 JK2017 Leap Motion files to {tmp_path / jk2017.LEAP.FOLDER}" in [r.getMessage() for r in caplog.records]
    assert (tmp_path / jk2017.LEAP.FOLDER / "Sub_U506" / "sideways" / "ex_2.txt").read_bytes() == \
        (shared_data / jk2017.LEAP.FOLDER / "Sub_U506" / "sideways" / "ex_2.txt").read_bytes()
    assert not _leftovers(tmp_path)


def test_unwritable_datapath_is_a_clear_error(shared_data, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(Exception, match=r"cannot create .*choose a writable --datapath"):
        load_raw("dollar-gds", blocker / "data", download_url="http://127.0.0.1:9/xml.zip")


def test_shared_read_only_layout_loads_without_network(shared_data):
    raw = load_raw("dollar-gds", shared_data, download_url="http://127.0.0.1:9/never")
    assert len(raw.sequences) == 1600
    raw = load_raw("jk2017-kinect", shared_data, download_url="http://127.0.0.1:9/never")
    assert len(raw.sequences) == 560


def test_download_file_is_atomic_under_interruption(serve, tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f.bin").write_bytes(b"x" * 300_000)
    server = serve(tmp_path / "src")
    destination = tmp_path / "out" / "f.bin"
    monkeypatch.setattr(download, "CHUNK", 1024)
    original = download._fetch_once

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "_fetch_once", interrupted)
    with pytest.raises(KeyboardInterrupt):
        download.download_file(f"{server.url}/f.bin", destination)
    assert not destination.exists() and not _leftovers(tmp_path / "out")
    monkeypatch.setattr(download, "_fetch_once", original)
    download.download_file(f"{server.url}/f.bin", destination)
    assert destination.read_bytes() == b"x" * 300_000
    shutil.rmtree(tmp_path / "out")


@pytest.mark.parametrize("dataset, variable, url", [
    ("dollar-gds", "DEEPNAG_DOLLAR_GDS_URL", "http://deepnag-offline.invalid/xml.zip"),
    ("jk2017-kinect", "DEEPNAG_JK2017_URL", "http://deepnag-offline.invalid/jk2017"),
    ("jk2017-leap", "DEEPNAG_JK2017_LEAP_URL", "http://deepnag-offline.invalid/jk2017"),
])
def test_an_offline_download_error_is_one_whole_sentence_naming_what_to_do(tmp_path, monkeypatch, dataset, variable, url):
    monkeypatch.setattr("deepnag.data.download._BACKOFF_S", 0.0)
    with pytest.raises(DownloadError) as caught:
        load_raw(dataset, tmp_path, download_url=url)
    message = str(caught.value)
    assert "\n" not in message and "Caused by" not in message and "HTTPConnection" not in message
    assert "(the host name could not be resolved: no network, or a wrong address)" in message
    assert variable in message and "--download-url" in message and "--datapath" in message
    folder = {"dollar-gds": "dollar_gds/", "jk2017-kinect": "jk2017/kinect/training/",
              "jk2017-leap": "jk2017/leap_motion/training/"}[dataset]
    assert message.endswith(f"holding {folder})")


def test_a_refused_connection_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr("deepnag.data.download._BACKOFF_S", 0.0)
    with pytest.raises(DownloadError, match=r"after 3 attempts \(the connection was refused\); check the network"):
        load_raw("dollar-gds", tmp_path, download_url="http://127.0.0.1:9/xml.zip")


def test_the_default_datapath_is_the_projects_data_folder_from_any_directory(tmp_path, monkeypatch):
    from deepnag.data import resolve_datapath
    from tests.conftest import ROOT

    monkeypatch.delenv("DEEPNAG_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_datapath("data") == ROOT / "data"
    assert resolve_datapath("./data") == Path("./data") and resolve_datapath(tmp_path) == tmp_path
    monkeypatch.setenv("DEEPNAG_DATA", str(tmp_path / "mine"))
    assert resolve_datapath("data") == tmp_path / "mine"


def test_an_installed_package_keeps_its_data_in_the_user_cache(tmp_path, monkeypatch):
    import deepnag.data as data_module

    monkeypatch.delenv("DEEPNAG_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fake = tmp_path / "site-packages" / "deepnag" / "data" / "__init__.py"  # no checkout around it
    monkeypatch.setattr(data_module, "__file__", str(fake))
    assert data_module.resolve_datapath("data") == tmp_path / "cache" / "deepnag" / "data"


@pytest.mark.parametrize("dataset", ["dollar-gds", "jk2017-kinect", "jk2017-leap"])
def test_a_failed_first_download_leaves_no_empty_data_set_folder(tmp_path, monkeypatch, dataset):
    monkeypatch.setattr("deepnag.data.download._BACKOFF_S", 0.0)
    with pytest.raises(DownloadError):
        load_raw(dataset, tmp_path, download_url="http://127.0.0.1:9/nothing")
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_dir())
    assert left in ([], ["jk2017"])  # jk2017/ keeps only the marker that the licence notice was shown


@pytest.mark.parametrize("form", ["file-url", "path"])
def test_a_mirror_on_this_machine_is_copied_like_a_download(shared_data, tmp_path, form):
    """A `file://` URL or a plain path works as a mirror for both kinds of data set, with nothing retried."""
    zip_path, leap = shared_data / "dollar_gds" / "xml.zip", shared_data / jk2017.LEAP.FOLDER
    as_url = (lambda p: p.as_uri()) if form == "file-url" else str
    raw = load_raw("dollar-gds", tmp_path / "a", download_url=as_url(zip_path))
    assert len(raw.sequences) == 1600
    assert (tmp_path / "a" / "dollar_gds" / "xml.zip").read_bytes() == zip_path.read_bytes()
    raw = load_raw("jk2017-leap", tmp_path / "b", download_url=as_url(leap))
    assert len(raw.sequences) == 360 and not _leftovers(tmp_path)


def test_a_missing_local_mirror_is_one_line_and_leaves_no_folder(tmp_path):
    missing = tmp_path / "nowhere" / "xml.zip"
    datapath = tmp_path / "new" / "data"
    with pytest.raises(DownloadError) as caught:
        load_raw("dollar-gds", datapath, download_url=str(missing))
    assert str(caught.value) == (f"the mirror file {missing} (from {missing}) does not exist; check the path given with "
                                 "--download-url or the data set's environment variable")
    assert not (tmp_path / "new").exists()  # the failed first download removed every folder it made


def test_a_jk2017_download_that_fails_at_once_leaves_nothing_behind(shared_data, serve, tmp_path):
    """Not even the licence notice's marker: the next attempt shows the notice again."""
    server = serve(shared_data / "jk2017" / "kinect" / "training")

    def down(handler) -> bool:
        handler.send_error(503, "maintenance")
        return True

    server.set_fault(down)
    with pytest.raises(DownloadError):
        load_raw("jk2017-kinect", tmp_path, download_url=server.url)
    assert list(tmp_path.iterdir()) == []
