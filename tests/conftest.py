"""Shared fixtures: the real data sets, and a local HTTP server serving them."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent

TINY_RUN = ("--dataset=dollar-gds", "--classes=arrow,star", "--max-per-class=4", "--resample-n=12", "--batch-size=4",
            "--vis-frequency=0", "--checkpoint-frequency=0")
"""The flags of a training run small enough for a test (seconds on a CPU)."""


def tiny(*changes: str) -> list[str]:
    """TINY_RUN with `changes`: a flag given here replaces the one of the same name, others are added."""
    names = {c.split("=", 1)[0] for c in changes}
    return [f for f in TINY_RUN if f.split("=", 1)[0] not in names] + list(changes)


def _shared_data() -> Path | None:
    candidate = Path(os.environ.get("DEEPNAG_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return candidate if (candidate / "dollar_gds" / "xml.zip").is_file() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real copies of both data sets (CI sets DEEPNAG_REQUIRE_DATA=1: missing data fails)."""
    path = _shared_data()
    if path is None:
        if os.environ.get("DEEPNAG_REQUIRE_DATA") == "1":
            pytest.fail("DEEPNAG_REQUIRE_DATA=1 but the real data sets are not at DEEPNAG_SHARED_DATA")
        pytest.skip("real data sets not found (set DEEPNAG_SHARED_DATA to the folder holding dollar_gds/ and jk2017/)")
    return path


@pytest.fixture(scope="session")
def mmg_data(shared_data) -> Path:
    """The folder holding the real mmg/mmg.tar.xz (skipped without it, failed when CI requires the data)."""
    if not (shared_data / "mmg" / "mmg.tar.xz").is_file():
        if os.environ.get("DEEPNAG_REQUIRE_DATA") == "1":
            pytest.fail("DEEPNAG_REQUIRE_DATA=1 but mmg/mmg.tar.xz is not at DEEPNAG_SHARED_DATA")
        pytest.skip("the MMG archive is not at DEEPNAG_SHARED_DATA/mmg/mmg.tar.xz")
    return shared_data


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; `server.faults` can make chosen paths fail."""

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        fault = self.server.fault  # type: ignore[attr-defined]
        if fault is not None and fault(self):
            return
        super().do_GET()


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 serving `root`; records the paths requested."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.requests = []  # type: ignore[attr-defined]
        self.httpd.fault = None  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests  # type: ignore[attr-defined]

    def set_fault(self, fault) -> None:
        """`fault(handler) -> bool`: True when it has answered the request itself."""
        self.httpd.fault = fault  # type: ignore[attr-defined]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator:
    """Factory: `serve(folder)` starts a LocalServer for the test's duration."""
    servers: list[LocalServer] = []

    def start(root: Path) -> LocalServer:
        server = LocalServer(root)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture(autouse=True)
def restore_thread_counts():
    """main.main() sets torch's and Numba's thread counts for the process; undo it after each test."""
    import numba
    import torch

    torch_threads, numba_threads = torch.get_num_threads(), numba.get_num_threads()
    yield
    torch.set_num_threads(torch_threads)
    numba.set_num_threads(numba_threads)


SLOW_FILES = ("test_benchmarks.py", "test_install.py")
"""Test files whose every test starts processes (benchmarks, pip)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` what the quick subset (`-m "not slow"`) leaves out: every test on the real data sets (loading
    them, and mostly training on them), building the package, and running a benchmark or script as a process."""
    for item in items:
        if ("shared_data" in getattr(item, "fixturenames", ()) or item.get_closest_marker("install")
                or item.get_closest_marker("trains") or item.path.name in SLOW_FILES):
            item.add_marker(pytest.mark.slow)
