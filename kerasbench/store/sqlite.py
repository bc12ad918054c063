"""The SQLite results store: one file, written as results arrive, read by reports.

Each result is committed in its own transaction the moment its point ends.
The file is marked as kerasbench's (``PRAGMA application_id``) and carries its
schema version (``PRAGMA user_version``): a file that is not a kerasbench
store, is corrupt, or comes from a newer kerasbench is refused and never
written to (it is inspected through a read-only connection first). A store
from an older kerasbench is migrated in place, in one transaction, by the
steps in ``MIGRATIONS``. WAL mode, a busy timeout and retries let two runs
share one store; a reader sees whole results only.

A run records its planned points (``runs.specs_json``) and each result the
index of its point in that plan (``results.point_index``), so an interrupted
run can be resumed from the store alone.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kerasbench.store.interface import (
    SqlStore,
)
from kerasbench.store.schema import (
    APPLICATION_ID,
    MIGRATIONS,
    READ_TIME_LIMIT_S,
    SCHEMA_V1,
    SCHEMA_VERSION,
    StoreError,
    check_schema,
    connect_readonly,
    harden,
    time_limited,
)

BUSY_TIMEOUT_MS = 30_000
# Attempts at a write that still finds the store locked after the busy timeout.
WRITE_ATTEMPTS = 3
# Opening retries when SQLite refuses a lock at once (see _open_retrying).
OPEN_ATTEMPTS = 10
# "scheme://..." is a URL, never a file name (a file store would make a folder "scheme:").
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def default_path() -> Path:
    import os

    return Path(os.environ.get("KERASBENCH_RESULTS") or ".kerasbench/results.db")


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Store(SqlStore):
    """An open results store. Use as a context manager, or call ``close``."""

    def __init__(
        self, path: Path | str, create: bool = True, read_time_limit_s: float = READ_TIME_LIMIT_S
    ) -> None:
        if URL.match(str(path)):
            raise StoreError(f"{path}: a URL, not a results file (see kerasbench.store.open_store)")
        self.path = Path(path)
        self.read_time_limit_s = read_time_limit_s
        self.migrated_from: int | None = None  # the schema version this open migrated from
        self.readonly = False  # opened read-only: a store on a read-only location
        if not self.path.exists():
            if not create:
                raise StoreError(f"{self.path}: no results store here")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # e.g. afile/r.db where afile is a file
                reason = exc.strerror or str(exc)
                raise StoreError(
                    f"{self.path}: cannot create a results store here ({reason})"
                ) from None
        elif self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a results store")
        else:
            # Look before touching: a read-only connection cannot damage a file that
            # turns out not to be ours.
            self._inspect()
        try:
            # isolation_level=None: transactions are exactly the BEGIN/COMMIT below.
            self._conn = harden(
                sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            )
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._open_retrying()
        except sqlite3.OperationalError as exc:
            if create or _is_busy(exc):
                self._conn.close()
                raise StoreError(f"{self.path}: not a readable results store ({exc})") from None
            # A reader on a read-only location (where a WAL store cannot even be opened
            # for writing): read it as it is.
            if hasattr(self, "_conn"):
                self._conn.close()
            self._conn = self._connect_readonly()
            self.readonly = True
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"{self.path}: not a readable results store ({exc})") from None
        except BaseException:
            # A store refused half-way through opening leaves no connection (nor its locks).
            if hasattr(self, "_conn"):
                self._conn.close()
            raise

    def _connect_readonly(self) -> sqlite3.Connection:
        try:
            return connect_readonly(self.path)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: not a readable results store ({exc})") from None

    def _inspect(self) -> None:
        """Refuse an existing file that is not a kerasbench store we can read safely."""
        conn = self._connect_readonly()
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            app_id, version, tables = self._header(conn)
            if (app_id, tables) != (0, 0):
                self._check_header(app_id, version)
                check_schema(conn, self.path, version)
                # A damaged page shows up here rather than half-way through a run.
                limit = self.read_time_limit_s
                with time_limited(conn, self.path, limit, "integrity check"):
                    check = conn.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise StoreError(f"{self.path}: results store is corrupt ({check})")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a readable results store ({exc})") from None
        finally:
            conn.close()

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Rows of one read, under the read time limit; StoreError for any failure."""
        try:
            with time_limited(self._conn, self.path, self.read_time_limit_s):
                return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read the results store ({exc})") from None

    @staticmethod
    def _header(conn: sqlite3.Connection) -> tuple[int, int, int]:
        """(application id, schema version, schema objects), read in one statement, hence
        one snapshot: read one by one, they could straddle another process creating
        the store, and a half-seen new store would look like a foreign file."""
        row = conn.execute(
            "SELECT a.application_id, v.user_version, (SELECT count(*) FROM sqlite_master)"
            " FROM pragma_application_id AS a, pragma_user_version AS v"
        ).fetchone()
        return row[0], row[1], row[2]

    def _check_header(self, app_id: int, version: int) -> None:
        if app_id != APPLICATION_ID:
            raise StoreError(f"{self.path}: not a kerasbench results store; refusing to touch it")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer kerasbench (schema {version}, "
                f"this one reads up to {SCHEMA_VERSION}); upgrade kerasbench"
            )
        if version < 1:
            raise StoreError(f"{self.path}: results store without a schema version; refusing it")

    def _open_retrying(self) -> None:
        """``_open``, again while another process holds a lock SQLite will not wait for.

        Switching a new store to WAL needs the file to itself, and SQLite answers
        "database is locked" at once, without its busy timeout, while several
        processes create the same store.
        """
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            try:
                return self._open()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == OPEN_ATTEMPTS:
                    raise
                time.sleep(0.1 * attempt)

    def _open(self) -> None:
        app_id, version, tables = self._header(self._conn)
        if (app_id, tables) != (0, 0):
            self._check_header(app_id, version)
        if app_id == 0 or version < SCHEMA_VERSION:
            # Create or migrate under the write lock, re-reading the header there:
            # another process may have done it since we looked.
            with self._write() as c:
                app_id, version, tables = self._header(c)
                if (app_id, tables) == (0, 0):
                    for statement in SCHEMA_V1:
                        c.execute(statement)
                    c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    version = 1  # a new store is built as version 1, then migrated
                else:
                    self._check_header(app_id, version)
                    if version < SCHEMA_VERSION:
                        self.migrated_from = version
                for step in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[step]:
                        c.execute(statement)
                c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":  # e.g. a file system without shared memory; still correct, slower
            self._conn.execute("PRAGMA journal_mode = DELETE")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue
        # on the busy timeout instead of failing half-way through a transaction.
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _retry(self, what: str, write: Any) -> Any:
        """Run ``write`` (one transaction), retrying while another writer holds the lock."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._write() as c:
                    return write(c)
            except sqlite3.OperationalError as exc:
                if _is_busy(exc) and attempt < WRITE_ATTEMPTS:
                    time.sleep(0.1 * attempt)
                    continue
                raise StoreError(f"{self.path}: could not {what}: {exc}") from exc
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: could not {what}: {exc}") from exc
        raise AssertionError("unreachable")
