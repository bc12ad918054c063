"""The PostgreSQL results store: many machines and people writing to one database.

The tables live in their own PostgreSQL schema, ``kerasbench``, so a database shared
with other applications is fine. They are the SQLite store's tables (same columns,
same migrations from ``schema.MIGRATIONS``) plus ``meta``, the one row that marks the
schema as kerasbench's (``application_id``, as SQLite's PRAGMA) and holds its schema
version. A ``kerasbench`` schema without that row, with another id, with views,
triggers, rules or tables kerasbench never creates, or from a newer kerasbench is
refused before anything is written. Creating and migrating happen in one transaction
under an advisory lock, so two processes opening a new database at once do not race.

Each result is its own transaction, committed when its point ends (PostgreSQL's MVCC
lets any number of writers insert at once; a writer killed mid-run loses at most the
transaction it had open). Every statement runs under ``statement_timeout`` (the read
time limit), the counterpart of the SQLite store's progress handler.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from kerasbench.store.interface import (
    SqlStore,
)
from kerasbench.store.schema import (
    APPLICATION_ID,
    MIGRATIONS,
    READ_TIME_LIMIT_S,
    SCHEMA_VERSION,
    StoreError,
)

NAMESPACE = "kerasbench"
CONNECT_TIMEOUT_S = 10
WRITE_ATTEMPTS = 3
# Version 1 in PostgreSQL's types; ``seq`` orders runs saved within the same second.
PG_SCHEMA_V1 = (
    "CREATE TABLE meta (application_id BIGINT NOT NULL, schema_version INTEGER NOT NULL)",
    """CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    suite TEXT,
    label TEXT NOT NULL DEFAULT '',
    argv TEXT,
    host_json TEXT,
    status TEXT NOT NULL DEFAULT 'running',
    seq BIGSERIAL
)""",
    """CREATE TABLE results (
    id BIGSERIAL PRIMARY KEY,
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
TABLES = {"meta", "runs", "results"}
# Errors after which the same transaction may simply be tried again.
TRANSIENT = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


class PostgresStore(SqlStore):
    """An open PostgreSQL results store (the same interface as ``sqlite.Store``)."""

    MARK = "%s"
    PLAN_LENGTH = "json_array_length(specs_json::json)"
    RUN_ORDER = "started_at, seq"  # runs started in the same second keep their order

    def __init__(
        self, url: str, create: bool = True, read_time_limit_s: float = READ_TIME_LIMIT_S
    ) -> None:
        self.url = url
        self.path = redact(url)  # what messages name (the SQLite store's file path)
        self.migrated_from: int | None = None
        self.readonly = False
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise StoreError(f"{self.path}: cannot connect ({_first_line(exc)})") from None
        try:
            limit_ms = int(read_time_limit_s * 1000)
            self._conn.execute(f"SET statement_timeout = {limit_ms}")
            self._conn.execute(f"SET search_path TO {NAMESPACE}")
            self._open(create)
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(
                f"{self.path}: not a usable results store ({_first_line(exc)})"
            ) from None
        except BaseException:
            self._conn.close()
            raise

    # opening -------------------------------------------------------------

    def _objects(self) -> tuple[bool, list[tuple[str, str]]]:
        """(whether the kerasbench schema exists, its (relation, kind) pairs)."""
        exists = self._conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (NAMESPACE,)
        ).fetchone()[0]
        rows = self._conn.execute(
            "SELECT c.relname, c.relkind FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
            (NAMESPACE,),
        ).fetchall()
        return bool(exists), rows

    def _check(self, relations: list[tuple[str, str]]) -> int:
        """The schema version of an existing kerasbench schema; StoreError if not ours."""
        kinds = {name: kind for name, kind in relations}
        odd = [
            n for n, k in relations if k in ("v", "m", "f", "p") or (k == "r" and n not in TABLES)
        ]
        if odd:
            raise StoreError(
                f"{self.path}: schema {NAMESPACE!r} holds {odd[0]!r}, which kerasbench never "
                "creates; refusing it"
            )
        if kinds.get("meta") != "r":
            raise StoreError(
                f"{self.path}: schema {NAMESPACE!r} is not a kerasbench results store; "
                "refusing to touch it"
            )
        code = self._conn.execute(
            "SELECT (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            "  JOIN pg_namespace n ON n.oid = c.relnamespace"
            "  WHERE n.nspname = %s AND NOT t.tgisinternal),"
            " (SELECT count(*) FROM pg_rules WHERE schemaname = %s)",
            (NAMESPACE, NAMESPACE),
        ).fetchone()
        if code[0] or code[1]:
            raise StoreError(
                f"{self.path}: results store has triggers or rules that kerasbench never "
                "creates (they run code on every write or read); refusing it"
            )
        rows = self._conn.execute("SELECT application_id, schema_version FROM meta").fetchall()
        if len(rows) != 1 or rows[0][0] != APPLICATION_ID:
            raise StoreError(f"{self.path}: not a kerasbench results store; refusing to touch it")
        version = rows[0][1]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer kerasbench (schema {version}, "
                f"this one reads up to {SCHEMA_VERSION}); upgrade kerasbench"
            )
        if version < 1:
            raise StoreError(f"{self.path}: results store without a schema version; refusing it")
        if not TABLES <= {n for n, k in relations if k == "r"}:
            raise StoreError(f"{self.path}: results store lacks a table; refusing it")
        return version

    def _open(self, create: bool) -> None:
        exists, relations = self._objects()
        if exists:
            version = self._check(relations)
            if version == SCHEMA_VERSION:
                return
        elif not create:
            raise StoreError(f"{self.path}: no results store here")
        # Create or migrate under a lock, looking again there: another process may have.
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPLICATION_ID,))
            exists, relations = self._objects()
            if not exists:
                self._conn.execute(f"CREATE SCHEMA {NAMESPACE}")
            if not relations:
                for statement in PG_SCHEMA_V1:
                    self._conn.execute(statement)
                self._conn.execute("INSERT INTO meta VALUES (%s, 1)", (APPLICATION_ID,))
                version = 1
            else:
                version = self._check(relations)
                if version < SCHEMA_VERSION:
                    self.migrated_from = version
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    self._conn.execute(statement)
            self._conn.execute("UPDATE meta SET schema_version = %s", (SCHEMA_VERSION,))

    # plumbing ------------------------------------------------------------

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except psycopg.Error as exc:
            raise StoreError(
                f"{self.path}: cannot read the results store ({_first_line(exc)})"
            ) from None

    def _retry(self, what: str, write: Callable[[psycopg.Connection], Any]) -> Any:
        """Run ``write`` in one transaction, again when PostgreSQL asks for a retry."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._conn.transaction():
                    return write(self._conn)
            except TRANSIENT as exc:
                if attempt < WRITE_ATTEMPTS:
                    time.sleep(0.1 * attempt)
                    continue
                raise StoreError(f"{self.path}: could not {what}: {_first_line(exc)}") from None
            except psycopg.Error as exc:
                raise StoreError(f"{self.path}: could not {what}: {_first_line(exc)}") from None
        raise AssertionError("unreachable")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
