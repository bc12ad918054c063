"""Reading results that someone else wrote: a results store or a JSON export, checked.

``kerasbench compare`` reads files from other machines and other people. A
record that is not an object, lacks a field, has a field of the wrong type or
holds window times that are not positive finite numbers (NaN, inf, 0) is
refused with one line naming the file, the record and the field
(``CompareError``, which the CLI turns into exit code 2), never a traceback,
and never a "no change" computed from NaN.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kerasbench.result import Result

MAX_JSON_BYTES = 512 * 2**20  # a JSON export larger than this is not read into memory


class CompareError(ValueError):
    """An input that cannot be compared: a missing file, not results, or a malformed record."""


def _fits(value: object, hint: Any) -> bool:
    """Whether a JSON value fits a field's type hint (an int is a float; a bool is neither)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is Any:
        return True
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63
    if hint is float:  # an int too large for a float would overflow in arithmetic
        if isinstance(value, int) and not isinstance(value, bool):
            return abs(value) < 2**63
        return isinstance(value, float)
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:  # stored as a JSON list
        if not isinstance(value, (list, tuple)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(
            _fits(v, a) for v, a in zip(value, args, strict=True)
        )
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    return False


_HINTS = typing.get_type_hints(Result)
_REQUIRED = tuple(
    f.name
    for f in dataclasses.fields(Result)
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
)


def check_result(result: Result, where: str) -> Result:
    """``result`` if its numbers can be compared; else CompareError naming ``where``."""
    bad = [w for w in result.window_times_s if not (math.isfinite(w) and w > 0)]
    if bad:
        raise CompareError(f"{where}: window_times_s holds {bad[0]!r}: not a positive finite time")
    if result.batch_size < 1:
        raise CompareError(f"{where}: batch_size {result.batch_size} is not a positive count")
    if result.window_steps is not None and result.window_steps < 1:
        raise CompareError(f"{where}: window_steps {result.window_steps} is not a positive count")
    speed = result.samples_per_sec
    if speed is not None and not math.isfinite(speed):
        raise CompareError(f"{where}: samples_per_sec is {speed!r}")
    return result


def result_from_record(data: object, where: str) -> Result:
    """A Result from one JSON record, checked field by field; CompareError if malformed."""
    if not isinstance(data, Mapping):
        raise CompareError(f"{where}: expected a result record (an object), got {_kind(data)}")
    missing = [name for name in _REQUIRED if name not in data]
    if missing:
        raise CompareError(f"{where}: missing field {missing[0]!r}")
    for name, value in data.items():
        hint = _HINTS.get(name) if isinstance(name, str) else None
        if hint is not None and not _fits(value, hint):
            shown = repr(value)[:60]
            raise CompareError(f"{where}: field {name!r} has the wrong type ({shown})")
    try:
        result = Result.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise CompareError(f"{where}: {str(exc)[:200]}") from None
    return check_result(result, where)


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string"}.get(
        type(value), type(value).__name__
    )


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
        raise CompareError(f"{path}: expected a JSON list of result records, got {_kind(records)}")
    return [result_from_record(r, f"{path}: record {i}") for i, r in enumerate(records)]


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
        where = f"{path}: result"
        return [check_result(r, f"{where} {r.point_key}") for r in results]
    return [r for r in read_json_export(path) if label is None or r.label == label]
