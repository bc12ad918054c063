"""The results store: an SQLite file, written as results arrive, read by reports.

Each result is committed in its own transaction the moment its point ends.
The file is marked as kerasbench's (``PRAGMA application_id``) and carries its
schema version (``PRAGMA user_version``): a file that is not a kerasbench
store, is corrupt, or comes from a newer kerasbench is refused and never
written to. WAL mode and a busy timeout let two runs share one store.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kerasbench.result import Result

APPLICATION_ID = 0x4B424E43  # "KBNC"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    suite TEXT,
    label TEXT NOT NULL DEFAULT '',
    argv TEXT,
    host_json TEXT,
    status TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT REFERENCES runs(run_id),
    point_key TEXT NOT NULL,
    model TEXT NOT NULL,
    backend TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    started_at TEXT,
    record_json TEXT NOT NULL
);
CREATE INDEX results_run ON results(run_id);
CREATE INDEX results_point ON results(point_key);
"""


class StoreError(RuntimeError):
    """A results file that kerasbench must not read or write."""


def default_path() -> Path:
    import os

    return Path(os.environ.get("KERASBENCH_RESULTS") or ".kerasbench/results.db")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    started_at: str
    finished_at: str | None
    suite: str | None
    label: str
    status: str
    host: dict[str, Any]


class Store:
    """An open results store. Use as a context manager, or call ``close``."""

    def __init__(self, path: Path | str, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise StoreError(f"{self.path}: no results store here")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a results store")
        try:
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._open()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a readable results store ({exc})") from None

    def _open(self) -> None:
        conn = self._conn
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id == 0 and tables == 0:
            with self._write() as c:
                c.executescript(_SCHEMA)
                c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            version = SCHEMA_VERSION
        elif app_id != APPLICATION_ID:
            raise StoreError(f"{self.path}: not a kerasbench results store; refusing to touch it")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer kerasbench (schema {version}, "
                f"this one reads up to {SCHEMA_VERSION}); upgrade kerasbench"
            )
        conn.execute("PRAGMA journal_mode = WAL")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue
        # on the busy timeout instead of failing half-way through a transaction.
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # runs ---------------------------------------------------------------

    def begin_run(
        self, suite: str | None, label: str, argv: list[str], host: dict[str, Any]
    ) -> str:
        run_id = uuid.uuid4().hex[:12]
        with self._write() as c:
            c.execute(
                "INSERT INTO runs (run_id, started_at, suite, label, argv, host_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, now_iso(), suite, label, json.dumps(argv), json.dumps(host)),
            )
        return run_id

    def end_run(self, run_id: str, status: str) -> None:
        with self._write() as c:
            c.execute(
                "UPDATE runs SET finished_at = ?, status = ? WHERE run_id = ?",
                (now_iso(), status, run_id),
            )

    def runs(self) -> list[RunInfo]:
        rows = self._conn.execute(
            "SELECT run_id, started_at, finished_at, suite, label, status, host_json"
            " FROM runs ORDER BY started_at, rowid"
        ).fetchall()
        return [RunInfo(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6] or "{}")) for r in rows]

    # results ------------------------------------------------------------

    def save(self, result: Result) -> None:
        """Commit one result now (its own transaction)."""
        with self._write() as c:
            c.execute(
                "INSERT INTO results (run_id, point_key, model, backend, mode, status,"
                " label, started_at, record_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.run_id,
                    result.point_key,
                    result.model,
                    result.backend,
                    result.mode,
                    result.status,
                    result.label,
                    result.started_at,
                    json.dumps(result.to_dict()),
                ),
            )

    def results(
        self,
        label: str | None = None,
        run_id: str | None = None,
        models: Iterable[str] | None = None,
        backends: Iterable[str] | None = None,
        latest: bool = True,
    ) -> list[Result]:
        """Stored results in the order they were saved.

        With ``latest``, only the newest result of each point (configuration)
        is kept, so that re-running a suite replaces rows in a report rather
        than repeating them.
        """
        query = "SELECT record_json FROM results WHERE 1=1"
        params: list[Any] = []
        if label is not None:
            query += " AND label = ?"
            params.append(label)
        if run_id is not None:
            query += " AND run_id = ?"
            params.append(run_id)
        for column, values in (("model", models), ("backend", backends)):
            if values:
                values = list(values)
                query += f" AND {column} IN ({', '.join('?' * len(values))})"
                params.extend(values)
        query += " ORDER BY id"
        records = [
            Result.from_dict(json.loads(row[0]))
            for row in self._conn.execute(query, params).fetchall()
        ]
        if not latest:
            return records
        newest: dict[tuple[str, str], Result] = {}
        for record in records:
            key = (record.label, record.point_key)
            newest.pop(key, None)  # re-insert, so the order is that of the newest
            newest[key] = record
        return list(newest.values())
