"""What every results store shares: run records, the newest-run rule, the raw row layout.

Two stores implement one interface (``sqlite.Store`` and ``postgres.PostgresStore``):
``begin_run``, ``end_run``, ``reopen_run``, ``runs``, ``run_plan``, ``finished_points``,
``save``, ``results``, and, for ``kerasbench store copy``, ``raw_runs``,
``raw_results`` and ``insert_raw``. The checks on what is read back (a damaged run
record, a malformed result) live here so both stores refuse the same things.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kerasbench.records import RecordError, result_from_json
from kerasbench.result import Result
from kerasbench.store.schema import StoreError

RUN_STATUSES = ("running", "done", "interrupted")
# The columns a copy moves verbatim, in this order (kerasbench.store.copy).
RUN_COLUMNS = (
    "run_id",
    "started_at",
    "finished_at",
    "suite",
    "label",
    "argv",
    "host_json",
    "status",
    "specs_json",
)
RESULT_COLUMNS = (
    "run_id",
    "point_key",
    "model",
    "backend",
    "mode",
    "status",
    "label",
    "started_at",
    "record_json",
    "point_index",
)


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
    planned: int | None = None  # points in the stored plan; None when no plan was stored


def check_status(status: str) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"run status {status!r} is not one of {', '.join(RUN_STATUSES)}")


def run_info(where: str, row: tuple[Any, ...]) -> RunInfo:
    """A RunInfo from (run_id, started, finished, suite, label, status, host_json, planned)."""
    texts, optional = (row[0], row[1], row[4], row[5]), (row[2], row[3])
    ok = all(isinstance(v, str) for v in texts)
    ok = ok and all(v is None or isinstance(v, str) for v in optional)
    ok = ok and (row[7] is None or isinstance(row[7], int))
    try:
        host = json.loads(row[6] or "{}")
    except (TypeError, ValueError, RecursionError):
        host = None
    if not ok or not isinstance(host, dict):
        raise StoreError(f"{where}: run {str(row[0])[:40]!r}: damaged run record")
    return RunInfo(row[0], row[1], row[2], row[3], row[4], row[5], host, row[7])


def parse_plan(where: str, run_id: str, text: str | None) -> list[dict[str, Any]] | None:
    """A stored plan (JSON list of Spec dicts), None when none was stored; refuses damage."""
    if text is None:
        return None
    try:
        plan = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        plan = None
    if not isinstance(plan, list) or not all(isinstance(p, dict) for p in plan):
        raise StoreError(f"{where}: run {run_id}: the stored plan is damaged")
    return plan


def result_row(result: Result, point_index: int | None) -> tuple[Any, ...]:
    """The values of RESULT_COLUMNS for one result."""
    return (
        result.run_id,
        result.point_key,
        result.model,
        result.backend,
        result.mode,
        result.status,
        result.label,
        result.started_at,
        json.dumps(result.to_dict()),
        point_index,
    )


def read_records(where: str, rows: Iterable[tuple[Any, str]]) -> list[Result]:
    """Results from (row id, record_json) rows, each checked (StoreError naming the row)."""
    records = []
    for row_id, text in rows:
        try:
            records.append(result_from_json(text, f"{where}: result row {row_id}"))
        except RecordError as exc:
            raise StoreError(str(exc)) from None
    return records


def keep_latest(records: list[Result]) -> list[Result]:
    """Only the newest run's results of each point (label and configuration).

    Re-running a suite replaces rows in a report rather than repeating them; the
    repeats of that newest run all stay, in the order they were saved.
    """
    newest: dict[tuple[str, str], list[Result]] = {}
    for record in records:
        key = (record.label, record.point_key)
        kept = newest.pop(key, [])  # re-insert, so the order is that of the newest
        same_run = kept and kept[-1].run_id == record.run_id and record.run_id is not None
        newest[key] = [*kept, record] if same_run else [record]
    return [r for group in newest.values() for r in group]


def filters(
    label: str | None,
    run_id: str | None,
    models: Iterable[str] | None,
    backends: Iterable[str] | None,
    mark: str,
) -> tuple[str, list[Any]]:
    """The WHERE clause of a results query (``mark``: the driver's placeholder) and params."""
    query, params = "", []
    for column, value in (("label", label), ("run_id", run_id)):
        if value is not None:
            query += f" AND {column} = {mark}"
            params.append(value)
    for column, values in (("model", models), ("backend", backends)):
        if values:
            values = list(values)
            query += f" AND {column} IN ({', '.join([mark] * len(values))})"
            params.extend(values)
    return query, params


class SqlStore:
    """What both stores do, written once over their SQL dialects: runs, results, raw copies.

    A store provides ``path``, ``_conn``, ``_read(sql, params)`` and
    ``_retry(what, write)`` (one transaction, retried while another writer holds
    the lock), and says how its SQL differs: ``MARK``, the parameter placeholder;
    ``PLAN_LENGTH``, the planned points of a run; ``RUN_ORDER``, the order runs were
    started in. Opening, the schema and its checks, locking and retries stay with each store.
    """

    MARK = "?"
    PLAN_LENGTH = "json_array_length(specs_json)"
    RUN_ORDER = "started_at, rowid"
    path: Any
    _conn: Any

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _retry(self, what: str, write: Any) -> Any:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        """``sql`` written with ``?`` placeholders, in this store's own."""
        return sql.replace("?", self.MARK)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def begin_run(
        self,
        suite: str | None,
        label: str,
        argv: list[str],
        host: dict[str, Any],
        specs: list[dict[str, Any]] | None = None,
    ) -> str:
        """Record a new run (and its planned points, for resuming); returns its id."""
        run_id = uuid.uuid4().hex[:12]
        plan = None if specs is None else json.dumps(specs)
        values = (run_id, now_iso(), suite, label, json.dumps(argv), json.dumps(host), plan)
        sql = self._sql(
            "INSERT INTO runs (run_id, started_at, suite, label, argv, host_json, specs_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        self._retry("record the run", lambda c: c.execute(sql, values))
        return run_id

    def end_run(self, run_id: str, status: str) -> None:
        self._set_run_status(run_id, status, now_iso())

    def reopen_run(self, run_id: str) -> None:
        """Mark a run as running again (it is being resumed)."""
        self._set_run_status(run_id, "running", None)

    def _set_run_status(self, run_id: str, status: str, finished_at: str | None) -> None:
        check_status(status)
        sql = self._sql("UPDATE runs SET finished_at = ?, status = ? WHERE run_id = ?")
        self._retry("update the run", lambda c: c.execute(sql, (finished_at, status, run_id)))

    def runs(self) -> list[RunInfo]:
        rows = self._read(
            "SELECT run_id, started_at, finished_at, suite, label, status, host_json,"
            f" {self.PLAN_LENGTH} FROM runs ORDER BY {self.RUN_ORDER}"
        )
        return [run_info(str(self.path), r) for r in rows]

    def run_plan(self, run_id: str) -> list[dict[str, Any]] | None:
        """The planned points of a run as Spec dicts, or None when none was stored."""
        rows = self._read(self._sql("SELECT specs_json FROM runs WHERE run_id = ?"), (run_id,))
        if not rows:
            raise StoreError(f"{self.path}: no run {run_id!r} in this store")
        return parse_plan(str(self.path), run_id, rows[0][0])

    def finished_points(self, run_id: str) -> set[int]:
        """Indices (in the run's plan) of the points that have a saved result."""
        rows = self._read(
            self._sql(
                "SELECT DISTINCT point_index FROM results"
                " WHERE run_id = ? AND point_index IS NOT NULL"
            ),
            (run_id,),
        )
        return {r[0] for r in rows if isinstance(r[0], int)}

    # results ------------------------------------------------------------

    def save(self, result: Result, point_index: int | None = None) -> None:
        """Commit one result now (its own transaction); StoreError when it cannot be saved.

        ``point_index`` is the point's place in its run's plan (see ``finished_points``).
        """
        row = result_row(result, point_index)
        sql = self._insert_sql("results", RESULT_COLUMNS)
        self._retry("save the result", lambda c: c.execute(sql, row))

    def results(
        self,
        label: str | None = None,
        run_id: str | None = None,
        models: Iterable[str] | None = None,
        backends: Iterable[str] | None = None,
        latest: bool = True,
    ) -> list[Result]:
        """Stored results in the order they were saved.

        With ``latest``, only the newest run's results of each point
        (configuration) are kept, so that re-running a suite replaces rows in a
        report rather than repeating them; the repeats of that run all stay.
        """
        where, params = filters(label, run_id, models, backends, self.MARK)
        rows = self._read(
            f"SELECT id, record_json FROM results WHERE 1=1{where} ORDER BY id", params
        )
        records = read_records(str(self.path), rows)
        return keep_latest(records) if latest else records

    # copying between stores (kerasbench.store.copy) ----------------------

    def raw_runs(self) -> list[tuple[Any, ...]]:
        """Every run row (RUN_COLUMNS), oldest first."""
        return self._read(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs ORDER BY {self.RUN_ORDER}")

    def raw_results(self) -> list[tuple[Any, ...]]:
        """Every result row (RESULT_COLUMNS), in the order saved."""
        return self._read(f"SELECT {', '.join(RESULT_COLUMNS)} FROM results ORDER BY id")

    def insert_raw(
        self, runs: Sequence[tuple[Any, ...]], results: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert copied rows verbatim, all in one transaction."""

        def write(c: Any) -> None:
            cursor = c.cursor()
            for table, columns, rows in (
                ("runs", RUN_COLUMNS, runs),
                ("results", RESULT_COLUMNS, results),
            ):
                if rows:
                    cursor.executemany(self._insert_sql(table, columns), list(rows))

        self._retry("copy results into the store", write)

    def _insert_sql(self, table: str, columns: Sequence[str]) -> str:
        marks = ", ".join([self.MARK] * len(columns))
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
