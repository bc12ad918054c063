"""The results store's schema, and the checks that a file on disk holds exactly that.

A store is a file other people can hand you. SQLite runs whatever a file's
schema says on every read: a view can be an endless recursive query, a trigger
can rewrite each saved row. So a store is read only when ``sqlite_master``
holds exactly the objects this kerasbench creates (no views, no triggers, no
extra tables or indexes), every connection runs with ``trusted_schema=OFF``,
and reads have a time limit (a progress handler interrupts them).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

APPLICATION_ID = 0x4B424E43  # "KBNC"
SCHEMA_VERSION = 2
# A read (a report's query, the integrity check) that runs longer than this is stopped.
READ_TIME_LIMIT_S = 120.0
# How many SQLite virtual-machine steps pass between two looks at the clock.
PROGRESS_STEPS = 10_000

# Version 1, as the first kerasbench wrote it; newer versions are reached by MIGRATIONS.
SCHEMA_V1 = (
    """CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    suite TEXT,
    label TEXT NOT NULL DEFAULT '',
    argv TEXT,
    host_json TEXT,
    status TEXT NOT NULL DEFAULT 'running'
)""",
    """CREATE TABLE results (
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
)""",
    "CREATE INDEX results_run ON results(run_id)",
    "CREATE INDEX results_point ON results(point_key)",
)

# MIGRATIONS[v] takes a store from version v to v + 1 (run inside one transaction).
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        # The planned points of a run (a JSON list of Spec dicts), for --resume.
        "ALTER TABLE runs ADD COLUMN specs_json TEXT",
        # The index of a result's point in its run's plan (NULL for results saved without one).
        "ALTER TABLE results ADD COLUMN point_index INTEGER",
        "CREATE INDEX results_run_point ON results(run_id, point_index)",
    ),
}

Schema = frozenset[tuple[str, str, str, str | None]]
MASTER = "SELECT type, name, tbl_name, sql FROM sqlite_master"


class StoreError(RuntimeError):
    """A results file that kerasbench must not read or write."""


@cache
def expected_schema(version: int) -> Schema:
    """The ``sqlite_master`` rows of a store at ``version``, as this kerasbench builds it."""
    conn = sqlite3.connect(":memory:")
    try:
        for statement in SCHEMA_V1:
            conn.execute(statement)
        for step in range(1, version):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
        # AUTOINCREMENT's bookkeeping table appears with the first insert; a store has it.
        conn.execute("INSERT INTO runs (run_id, started_at) VALUES ('x', 'x')")
        conn.execute(
            "INSERT INTO results (point_key, model, backend, mode, status, record_json)"
            " VALUES ('', '', '', '', '', '')"
        )
        return frozenset(conn.execute(MASTER).fetchall())
    finally:
        conn.close()


def check_schema(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """Raise StoreError unless ``sqlite_master`` is exactly what ``version`` creates."""
    found = frozenset(conn.execute(MASTER).fetchall())
    wanted = expected_schema(version)
    # A store made before its first result lacks sqlite_sequence; nothing else may differ.
    # Objects that run code first: they are the reason for refusing.
    danger = {"trigger": 0, "view": 1, "table": 2}
    extra = sorted(found - wanted, key=lambda r: (danger.get(r[0], 3), str(r)))
    missing = sorted(wanted - found - {r for r in wanted if r[1] == "sqlite_sequence"}, key=str)
    if extra:
        kind, name = extra[0][0], extra[0][1]
        raise StoreError(
            f"{path}: results store holds {'an' if kind == 'index' else 'a'} {kind} {name!r} "
            "that kerasbench never creates "
            "(views and triggers run code on every read); refusing it"
        )
    if missing:
        raise StoreError(
            f"{path}: results store lacks or has a changed {missing[0][0]} {missing[0][1]!r}; "
            "refusing it"
        )


def harden(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Settings every store connection gets before it reads anything."""
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute("PRAGMA cell_size_check = ON")
    return conn


@contextmanager
def time_limited(
    conn: sqlite3.Connection, path: Path, limit_s: float, what: str = "read"
) -> Iterator[None]:
    """Run the block's statements under a deadline; StoreError when one runs past it."""
    deadline = time.monotonic() + limit_s
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc).lower():
            raise StoreError(
                f"{path}: a {what} of the results store took longer than {limit_s:g} s; refusing it"
            ) from None
        raise
    finally:
        conn.set_progress_handler(None, 0)


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection; ``immutable=1`` where the read-only one cannot start.

    A WAL store on a read-only mount cannot be opened ``mode=ro`` when its
    ``-shm`` file is missing or unwritable; ``immutable`` reads the main file as
    it is (a writer's uncheckpointed WAL frames are not seen).
    """
    uri = path.resolve().as_uri()
    try:
        conn = harden(sqlite3.connect(f"{uri}?mode=ro", uri=True))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            raise
    return harden(sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True))
