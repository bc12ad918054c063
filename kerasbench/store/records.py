"""Turns a stored result record (JSON text from a file someone else made) into a Result.

``Result.from_dict`` trusts its input; a store or export from elsewhere may hold
anything. ``result_from_json`` checks each known field against its declared type
first, so a bad record is a one-line ValueError that names the field, not a
traceback somewhere in a report.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from kerasbench.result import Result

# A record larger than this is not one kerasbench wrote (a full record is a few KB).
MAX_RECORD_CHARS = 4 << 20


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fits(value: Any, annotation: str) -> bool:
    """Whether a JSON value fits one of Result's field annotations (as written there)."""
    if annotation.endswith(" | None"):
        return value is None or _fits(value, annotation[: -len(" | None")])
    if annotation == "str":
        return isinstance(value, str)
    if annotation == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation == "float":
        return _is_number(value)
    if annotation == "bool":
        return isinstance(value, bool)
    if annotation.startswith("dict["):
        return isinstance(value, dict)
    if annotation == "tuple[float, float]":
        return isinstance(value, list) and len(value) == 2 and all(map(_is_number, value))
    if annotation == "tuple[float, ...]":
        return isinstance(value, list) and all(map(_is_number, value))
    if annotation == "tuple[str, ...]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return True  # a field type this checker does not know yet: left to Result


FIELDS = {f.name: f for f in dataclasses.fields(Result)}
REQUIRED = [
    name
    for name, f in FIELDS.items()
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
]


def check_record(data: Any) -> None:
    """Raise ValueError naming the first field of ``data`` that a Result cannot hold."""
    if not isinstance(data, dict):
        raise ValueError(f"a record is a JSON object, not {type(data).__name__}")
    missing = [name for name in REQUIRED if name not in data]
    if missing:
        raise ValueError(f"record lacks field(s) {', '.join(missing[:5])}")
    for name, value in data.items():
        field = FIELDS.get(name)
        if field is not None and not _fits(value, str(field.type)):
            shown = json.dumps(value)[:40]
            raise ValueError(f"record field {name!r} is not {field.type}: {shown}")
    for name in ("batch_size", "per_device_batch_size", "devices"):
        if data[name] < 1:
            raise ValueError(f"record field {name!r} is {data[name]}, not positive")
    times = data.get("window_times_s") or ()
    if any(not math.isfinite(t) or t < 0 for t in times):
        raise ValueError("record field 'window_times_s' holds a negative or non-finite time")


def result_from_json(text: Any) -> Result:
    """The Result a stored JSON record describes; ValueError naming what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"record is {type(text).__name__}, not JSON text")
    if len(text) > MAX_RECORD_CHARS:
        raise ValueError(f"record is {len(text)} characters; kerasbench writes far less")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"record is not JSON ({str(exc)[:80]})") from None
    check_record(data)
    return Result.from_dict(data)
