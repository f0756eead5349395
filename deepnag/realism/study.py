"""`--realism-study`: build (or reopen) a study in its folder, serve it, and write its results when it stops.

The folder holds `study.sqlite` (sessions, answers, the settings and the results' token), `pool.npz` (the samples
the trials show, drawn once) and, whenever the results page is asked for and when the server stops,
`answers.csv`, `summary.json` and `summary.png`. Running the same command again reopens the study where it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deepnag.atomic import writable_folder
from deepnag.config import Config
from deepnag.errors import UserError
from deepnag.realism import trials
from deepnag.realism.server import Study, create_app
from deepnag.realism.store import Store

log = logging.getLogger(__name__)

THREADS = 16
"""Requests the server answers at once."""


def study_folder(config: Config) -> Path:
    """--study-dir, else --logdir/realism/<data set>-<a digest of the checkpoints>: the same command reopens it."""
    if config.study_dir:
        return Path(config.study_dir)
    digest = hashlib.sha256("\n".join(str(Path(p).resolve()) for p in config.realism_study).encode()).hexdigest()
    return Path(config.logdir) / "realism" / f"study-{digest[:10]}"


def open_study(config: Config, explicit: set[str]) -> Study:
    """The study in its folder: created with its samples and token, or reopened if the checkpoints are the same."""
    folder = writable_folder(study_folder(config), "choose another --study-dir", create=True)
    checkpoints = [str(Path(p).resolve()) for p in config.realism_study]
    store = Store(folder / "study.sqlite")
    try:
        recorded = store.meta("checkpoints")
        if recorded is not None and recorded != checkpoints:
            raise UserError(f"{folder} holds a study of {', '.join(recorded)}: choose another --study-dir")
        pool_path = folder / "pool.npz"
        if recorded is None or not pool_path.is_file():
            datapath = config.datapath if "datapath" in explicit else None
            trials.build_pool(config.realism_study, datapath, config.resolved_seed).save(pool_path)
            store.set_meta("checkpoints", checkpoints)
            store.set_meta("token", secrets.token_urlsafe(16))
        pool = trials.Pool.load(pool_path)
        study = Study(pool, store, config.trials, config.practice_trials, store.meta("token"))
        study.new_plan()  # --trials checked against the generators now, not at the first participant
    except BaseException:
        store.close()
        raise
    return study


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While serving from the main thread, SIGTERM stops the server as Ctrl-C does (so the results are written)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_until_stopped(server: Any) -> None:
    """Serve until Ctrl-C or SIGTERM."""
    try:
        with _sigterm_as_interrupt():
            server.run()
    except KeyboardInterrupt:
        log.info("stopping")


def serve(config: Config, explicit: set[str]) -> dict[str, Path]:
    """--realism-study's entry: serve until Ctrl-C (or SIGTERM), then write the results; returns their paths."""
    import waitress

    study = open_study(config, explicit)
    folder = study.store.path.parent
    try:
        server: Any = waitress.create_server(create_app(study), host=config.host, port=config.port, threads=THREADS)
    except OSError as error:
        study.store.close()
        raise UserError(f"cannot serve on {config.host}:{config.port}: {error.strerror or error}") from None
    base = f"http://{config.host}:{server.effective_port}"
    log.info("realism study of %s in %s (%d answers so far)", ", ".join(study.pool.arms), folder,
             len(study.store.answers()))
    log.info("participants: %s/", base)
    log.info("results:      %s/results?token=%s", base, study.token)
    log.info("Ctrl-C stops the server and writes answers.csv, summary.json and summary.png")
    try:
        run_until_stopped(server)
    finally:
        server.close()
        written = study.write_files()
        study.store.close()
    for path in written.values():
        log.info("wrote %s", path)
    return written
