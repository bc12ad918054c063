"""Copy runs and results from one store to another (SQLite <-> PostgreSQL), without loss.

Rows travel verbatim (every column, the record's JSON text unchanged, so fields this
kerasbench does not know survive too), in the order they were saved, in one
transaction on the destination. Copying is idempotent: a run whose id the
destination has is not copied again, nor a result whose (run, record) pair it holds,
so a copy interrupted or repeated never duplicates rows. Every record is checked
(``records.result_from_json``) before anything is written: a damaged source is
refused whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from kerasbench.records import RecordError, result_from_json
from kerasbench.store.interface import RESULT_COLUMNS, RUN_COLUMNS
from kerasbench.store.schema import StoreError

_RECORD = RESULT_COLUMNS.index("record_json")
_RUN = RESULT_COLUMNS.index("run_id")


@dataclass(frozen=True)
class Copied:
    """What a copy did: rows added, and rows skipped because the destination had them."""

    runs: int
    results: int
    runs_present: int
    results_present: int


def _key(row: tuple[Any, ...]) -> tuple[Any, str]:
    text = row[_RECORD]
    return row[_RUN], hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).hexdigest()


def copy_store(src: Any, dst: Any) -> Copied:
    """Copy every run and result of ``src`` that ``dst`` lacks; returns the counts."""
    runs, results = src.raw_runs(), src.raw_results()
    for row in results:
        try:
            result_from_json(row[_RECORD], f"{src.path}: result of run {row[_RUN]}")
        except RecordError as exc:
            raise StoreError(f"not copied: {exc}") from None
    have_runs = {r[0] for r in dst.raw_runs()}
    have_results = {_key(r) for r in dst.raw_results()}
    new_runs = [r for r in runs if r[0] not in have_runs]
    new_results, seen = [], set(have_results)
    for row in results:
        key = _key(row)
        if key not in seen:
            seen.add(key)
            new_results.append(row)
    # A result may name a run the source lacks (saved without one): keep the reference valid.
    known = have_runs | {r[0] for r in runs}
    orphans = sorted({r[_RUN] for r in new_results if r[_RUN] is not None} - known)
    if orphans:
        raise StoreError(f"{src.path}: results of run {orphans[0]!r}, which is not in the store")
    dst.insert_raw(new_runs, new_results)
    return Copied(
        len(new_runs), len(new_results), len(runs) - len(new_runs), len(results) - len(new_results)
    )


__all__ = ["RESULT_COLUMNS", "RUN_COLUMNS", "Copied", "copy_store"]
