"""The study's sessions and answers in SQLite (stdlib `sqlite3`), in the study's folder: nothing to install.

Every write is validated first and committed at once, so a stopped server loses no answer and a participant
resumes at their first unanswered trial. A request that is not valid raises `RequestError` (an HTTP status and a
one-line reason) and stores nothing.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ANSWERS = ("real", "generated")
MAX_MS = 24 * 3600 * 1000
"""The longest a trial's answer time may claim (a day), in milliseconds."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, created REAL NOT NULL, plan TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    session TEXT NOT NULL REFERENCES sessions(id), trial INTEGER NOT NULL, practice INTEGER NOT NULL,
    arm INTEGER NOT NULL, truth TEXT NOT NULL, class INTEGER NOT NULL, answer TEXT NOT NULL, correct INTEGER NOT NULL,
    ms INTEGER, created REAL NOT NULL, PRIMARY KEY (session, trial));
"""
COLUMNS = ("session", "trial", "practice", "arm", "truth", "class", "answer", "correct", "ms", "created")


class RequestError(Exception):
    """A participant's request that cannot be taken: its HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Store:
    """One SQLite file; safe to share between the server's threads (one connection, one lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def meta(self, key: str) -> Any:
        """A study setting stored with `set_meta` (None when absent)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def new_session(self, trials: list[dict[str, Any]]) -> str:
        """A new participant with their plan of trials; returns a random session id."""
        session = secrets.token_urlsafe(16)
        with self._lock:
            self._db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (session, time.time(), json.dumps(trials)))
        return session

    def plan(self, session: Any) -> list[dict[str, Any]]:
        """A session's trials; RequestError 404 for an unknown session."""
        with self._lock:
            row = self._db.execute("SELECT plan FROM sessions WHERE id = ?", (str(session),)).fetchone()
        if row is None:
            raise RequestError(404, "unknown session")
        return json.loads(row[0])

    def next_trial(self, session: str) -> int:
        """The first trial the session has not answered (answers come in order)."""
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM answers WHERE session = ?", (session,)).fetchone()[0]

    def trial(self, session: str, trial: Any) -> dict[str, Any]:
        """One trial of a session, checked: RequestError 404 for an unknown session or a trial out of range."""
        trials = self.plan(session)
        index = trial_index(trial)
        if not 0 <= index < len(trials):
            raise RequestError(404, f"trial {index} is out of range: this session has trials 0 to {len(trials) - 1}")
        return trials[index]

    def answer(self, session: str, body: Any) -> dict[str, Any]:
        """Store a participant's answer to a trial (`body`: {"trial": int, "answer": "real"|"generated",
        "ms": optional int}) and return the row stored; RequestError, with nothing stored, when it is not valid."""
        if not isinstance(body, Mapping):
            raise RequestError(400, "the body must be a JSON object")
        unknown = sorted(set(body) - {"trial", "answer", "ms"})
        if unknown:
            raise RequestError(400, f"unknown field {unknown[0]!r} in the body")
        if body.get("answer") not in ANSWERS:
            raise RequestError(400, f"'answer' must be one of {', '.join(ANSWERS)}")
        ms = body.get("ms")
        if ms is not None and (type(ms) is not int or not 0 <= ms <= MAX_MS):
            raise RequestError(400, "'ms' must be a whole number of milliseconds from 0 to a day")
        if "trial" not in body or type(body["trial"]) is not int:
            raise RequestError(400, "'trial' must be a whole number")
        trial = self.trial(session, body["trial"])
        row = (session, body["trial"], int(trial["practice"]), trial["arm"], trial["truth"], trial["class"],
               body["answer"], int(body["answer"] == trial["truth"]), ms, time.time())
        self._insert_next(row)
        return dict(zip(COLUMNS, row))

    def _insert_next(self, row: tuple) -> None:
        """Insert the answer if its trial is the session's next one, in one transaction."""
        session, index = row[0], row[1]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                done = self._db.execute("SELECT COUNT(*) FROM answers WHERE session = ?", (session,)).fetchone()[0]
                if index < done:
                    raise RequestError(409, f"trial {index} is already answered")
                if index > done:
                    raise RequestError(409, f"trial {index} is not the next one: trial {done} is")
                self._db.execute(f"INSERT INTO answers VALUES ({', '.join('?' * len(COLUMNS))})", row)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def answers(self) -> list[dict[str, Any]]:
        """Every answer stored, by session and trial."""
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM answers ORDER BY session, trial").fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def session_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]


def trial_index(text: Any) -> int:
    """A trial's number from a URL or a body: RequestError 404 when it is no whole number."""
    if type(text) is int:
        return text
    try:
        return int(str(text), 10)
    except ValueError:
        raise RequestError(404, f"trial {str(text)[:40]!r} is not a trial number") from None
