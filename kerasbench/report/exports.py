"""Reading results that someone else wrote: a results store or a JSON export, checked.

``kerasbench compare`` reads files from other machines and other people. A
record that is not an object, lacks a field, has a field of the wrong type or
holds window times that are not positive finite numbers (NaN, inf, 0) is
refused with one line naming the file, the record and the field
(``CompareError``, which the CLI turns into exit code 2), never a traceback,
and never a "no change" computed from NaN.
"""

from __future__ import annotations

import json
from pathlib import Path

from kerasbench.records import RecordError, check_numbers, kind, result_from_record
from kerasbench.result import Result

MAX_JSON_BYTES = 512 * 2**20  # a JSON export larger than this is not read into memory


class CompareError(ValueError):
    """An input that cannot be compared: a missing file, not results, or a malformed record."""


def read_json_export(path: Path) -> list[Result]:
    """Results from a JSON export of ``kerasbench report --format json``; CompareError if not."""
    if path.stat().st_size > MAX_JSON_BYTES:
        raise CompareError(f"{path}: larger than {MAX_JSON_BYTES // 2**20} MiB; not a JSON export")
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise CompareError(
            f"{path}: neither a results store nor a JSON export ({str(exc)[:200]})"
        ) from None
    if not isinstance(records, list):
        raise CompareError(f"{path}: expected a JSON list of result records, got {kind(records)}")
    try:
        return [result_from_record(r, f"{path}: record {i}") for i, r in enumerate(records)]
    except RecordError as exc:
        raise CompareError(str(exc)) from None


def load_results(path: str | Path, label: str | None = None) -> list[Result]:
    """Results from a store (SQLite) or a JSON export (``label``'s only if given), checked."""
    from kerasbench.store import Store, StoreError

    path = Path(path)
    if not path.is_file():
        raise CompareError(f"{path}: no such file")
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"SQLite format 3"):
        try:
            with Store(path, create=False) as store:
                results = store.results(label=label)
        except StoreError as exc:
            raise CompareError(str(exc)) from None
        try:
            return [check_numbers(r, f"{path}: result {r.point_key}") for r in results]
        except RecordError as exc:
            raise CompareError(str(exc)) from None
    return [r for r in read_json_export(path) if label is None or r.label == label]
