"""Result records written by someone else, checked before they become Results.

A results store or a JSON export from another machine may hold anything.
``result_from_record`` checks each known field of a JSON object against its type
in ``Result`` and the numbers that statistics divide by, so a bad record is a
one-line ``RecordError`` naming the field, never a traceback somewhere in a
report and never a "no change" computed from NaN. Stores and ``compare`` both
read through here: one rule for what a readable record is.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

from kerasbench.result import Result

# A record larger than this is not one kerasbench wrote (a full record is a few KB).
MAX_RECORD_CHARS = 4 << 20


class RecordError(ValueError):
    """A record that is not a result kerasbench can read; the message names the field."""


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


def kind(value: object) -> str:
    """How to name a JSON value that is not what was expected."""
    return {dict: "an object", list: "a list", str: "a string"}.get(
        type(value), type(value).__name__
    )


def check_numbers(result: Result, where: str) -> Result:
    """``result`` if statistics can be drawn from it; else RecordError naming ``where``."""
    bad = [w for w in result.window_times_s if not (math.isfinite(w) and w > 0)]
    if bad:
        raise RecordError(f"{where}: window_times_s holds {bad[0]!r}: not a positive finite time")
    for name in ("batch_size", "per_device_batch_size", "devices"):
        if getattr(result, name) < 1:
            raise RecordError(f"{where}: {name} {getattr(result, name)} is not a positive count")
    if result.window_steps is not None and result.window_steps < 1:
        raise RecordError(f"{where}: window_steps {result.window_steps} is not a positive count")
    speed = result.samples_per_sec
    if speed is not None and not math.isfinite(speed):
        raise RecordError(f"{where}: samples_per_sec is {speed!r}")
    return result


def result_from_record(data: object, where: str) -> Result:
    """A Result from one JSON object, checked field by field; RecordError if malformed."""
    if not isinstance(data, Mapping):
        raise RecordError(f"{where}: expected a result record (an object), got {kind(data)}")
    missing = [name for name in _REQUIRED if name not in data]
    if missing:
        raise RecordError(f"{where}: missing field {missing[0]!r}")
    for name, value in data.items():
        hint = _HINTS.get(name) if isinstance(name, str) else None
        if hint is not None and not _fits(value, hint):
            shown = repr(value)[:60]
            raise RecordError(f"{where}: field {name!r} has the wrong type ({shown})")
    try:
        result = Result.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"{where}: {str(exc)[:200]}") from None
    return check_numbers(result, where)


def result_from_json(text: object, where: str) -> Result:
    """The Result a stored JSON text describes; RecordError naming what is wrong."""
    if not isinstance(text, str):
        raise RecordError(f"{where}: {type(text).__name__}, not JSON text")
    if len(text) > MAX_RECORD_CHARS:
        raise RecordError(f"{where}: {len(text)} characters; kerasbench writes far less")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RecordError(f"{where}: not JSON ({str(exc)[:80]})") from None
    return result_from_record(data, where)
