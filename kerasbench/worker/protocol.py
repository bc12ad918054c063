"""The worker protocol's one schema: the raw measurement a worker writes, and its JSON.

A worker (``python -m kerasbench.worker SPEC_JSON RESULT_JSON``, or the Python
3.7 legacy worker, which cannot import this module and writes the same keys)
writes one ``RawMeasurement`` as a JSON object; ``kerasbench.result.Result``
is built from it. The file comes from another process, so ``from_json``
checks every field's type and range and raises ``ProtocolError`` naming the
field, never a traceback from deep inside the statistics.

This module imports no framework: the launcher reads records with it too.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROTOCOL = 1
STATUSES = ("ok", "failed", "skipped")


class ProtocolError(ValueError):
    """A worker record that does not follow the protocol (the message names the field)."""


@dataclass(frozen=True)
class RawMeasurement:
    """What one worker process measured for one point. ``None``: not measured."""

    status: str  # ok | failed | skipped
    protocol: int = PROTOCOL
    error: str | None = None  # one line: why the point failed or was skipped
    window_times_s: tuple[float, ...] = ()  # each timed window, seconds (positive)
    losses: tuple[float, ...] = ()  # training loss of every step, where recorded
    time_to_first_step_s: float | None = None  # model build + compile + first step
    first_step_s: float | None = None  # the first step alone
    peak_host_memory_bytes: int | None = None
    peak_device_memory_bytes: int | None = None
    device_kind: str | None = None  # "cpu" or "gpu", as found
    device_name: str | None = None
    keras_version: str | None = None
    backend_version: str | None = None
    python_version: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # what was set, resolved
    items_per_step: int | None = None  # the batch, or for generate its new tokens
    throughput_unit: str | None = None  # "samples/s" or "tokens/s"
    stop_reason: str | None = None  # kerasbench.stats.StopRule's reason
    forward_flops_per_sample: float | None = None  # 1 multiply-add = 2 FLOPs
    flops_uncounted: tuple[str, ...] = ()  # layers with weights that no rule counts
    peak_tflops: float | None = None  # measured matmul peak of the device
    input_wait_fraction: float | None = None  # share of timed windows awaiting data
    skipped_files: int | None = None  # unreadable dataset files left out
    # serving scenarios (issue 17): latency percentiles of one request (ms; a CI is the
    # 95% bootstrap interval), the load, the runtime and the generator's own floor
    p50_ms: float | None = None
    p50_ci_ms: tuple[float, float] | None = None
    p90_ms: float | None = None
    p90_ci_ms: tuple[float, float] | None = None
    p99_ms: float | None = None
    p99_ci_ms: tuple[float, float] | None = None
    max_latency_ms: float | None = None
    n_requests: int | None = None  # timed requests completed
    achieved_qps: float | None = None  # server: completed requests per second
    n_dropped: int | None = None  # server: scheduled, never started before the time cap
    n_late: int | None = None  # server: completed over the p99 bound
    peak_qps: float | None = None  # find_peak: the highest rate keeping p99 under the bound
    runtime: str | None = None  # keras or an export format
    runtime_variant: str | None = None  # how it was called (jit, tf.function, session...)
    export_s: float | None = None  # model.export, outside timing
    artifact_bytes: int | None = None
    max_rel_error: float | None = None  # the runtime's outputs against Keras' own
    floor_p50_ms: float | None = None  # the no-op model's latency on this machine
    floor_max_qps: float | None = None  # the highest rate the generator sustains
    floor_flags: tuple[str, ...] = ()  # figures too near the floor or ceiling
    # your own model and Keras Hub (issue 15)
    model_sha256: str | None = None  # a user's model: its .keras file or builder source
    params: int | None = None  # the model's parameter count
    input_signature: str | None = None  # "name:AxB:dtype, ...", the model's inputs
    time_to_first_token_s: float | None = None  # generate: prefill + one token (median)
    time_per_output_token_s: float | None = None  # generate: each further token (median)
    trainable_params: int | None = None  # LoRA: the adapters' parameters
    # generation latency of a causal LM in mode latency (issue 17): per-request time to
    # first token and time per output token, percentiles in ms with 95% bootstrap CIs
    ttft_p50_ms: float | None = None
    ttft_p50_ci_ms: tuple[float, float] | None = None
    ttft_p90_ms: float | None = None
    ttft_p90_ci_ms: tuple[float, float] | None = None
    ttft_p99_ms: float | None = None
    ttft_p99_ci_ms: tuple[float, float] | None = None
    tpot_p50_ms: float | None = None
    tpot_p50_ci_ms: tuple[float, float] | None = None
    tpot_p90_ms: float | None = None
    tpot_p90_ci_ms: tuple[float, float] | None = None
    tpot_p99_ms: float | None = None
    tpot_p99_ci_ms: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _validate(self)

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-ready dict with every field (the protocol's keys)."""
        data = dataclasses.asdict(self)
        for key in LIST_FIELDS:
            data[key] = None if data[key] is None else list(data[key])
        return data

    @classmethod
    def from_json(cls, data: Any) -> RawMeasurement:
        """A record from the parsed JSON of a worker; ``ProtocolError`` when it is malformed.

        Keys a record lacks take their defaults ("not measured"), except ``status``;
        keys the protocol does not know are refused, so producers cannot drift apart.
        """
        if not isinstance(data, Mapping):
            raise ProtocolError(f"worker record: expected a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - FIELDS)
        if unknown:
            raise ProtocolError(f"worker record: unknown field(s) {', '.join(map(str, unknown))}")
        if "status" not in data:
            raise ProtocolError("worker record: field status is missing")
        values = dict(data)
        for key in LIST_FIELDS:
            if key in values and not (values[key] is None and key in CI_FIELDS):
                values[key] = tuple(_list(key, values[key]))
        if values.get("settings") is None:
            values.pop("settings", None)
        try:
            return cls(**values)
        except TypeError as exc:  # cannot happen with the field check above; named anyway
            raise ProtocolError(f"worker record: {exc}") from None


FIELDS = frozenset(f.name for f in dataclasses.fields(RawMeasurement))
# The generation latency fields (ttft_p50_ms, ttft_p50_ci_ms, ...), in the record's order.
GEN_FIELDS = tuple(
    f"{w}_{q}{ci}_ms" for w in ("ttft", "tpot") for q in ("p50", "p90", "p99") for ci in ("", "_ci")
)
CI_FIELDS = (  # a (low, high) pair or None
    "p50_ci_ms",
    "p90_ci_ms",
    "p99_ci_ms",
    *(k for k in GEN_FIELDS if k.endswith("_ci_ms")),
)
LIST_FIELDS = ("window_times_s", "losses", "flops_uncounted", "floor_flags", *CI_FIELDS)


def _list(key: str, value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ProtocolError(f"worker record: {key} must be a list, got {type(value).__name__}")
    return list(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_number(key: str, value: Any, *, positive: bool = False, integer: bool = False) -> None:
    """``value`` must be a finite number (>0 when ``positive``, else >=0), or None."""
    if value is None:
        return
    kind = "an integer" if integer else "a number"
    if not _is_number(value) or (integer and not isinstance(value, int)):
        raise ProtocolError(f"worker record: {key} must be {kind}, got {value!r}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "positive" if positive else "non-negative"
        raise ProtocolError(f"worker record: {key} is {value!r}, not a {bound} finite number")


def _check_str(key: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise ProtocolError(f"worker record: {key} must be a string, got {value!r}")


def _validate(record: RawMeasurement) -> None:
    """Every field's type and range; the first offence raises ``ProtocolError``."""
    if record.protocol != PROTOCOL or isinstance(record.protocol, bool):
        raise ProtocolError(
            f"worker record: protocol {record.protocol!r}; this kerasbench reads {PROTOCOL}"
        )
    if record.status not in STATUSES:
        raise ProtocolError(
            f"worker record: status {record.status!r} is not one of {', '.join(STATUSES)}"
        )
    for i, w in enumerate(record.window_times_s):
        _check_number(f"window_times_s[{i}]", w, positive=True)
    for i, loss in enumerate(record.losses):
        if not _is_number(loss):  # a diverged run's NaN loss is a measurement, kept
            raise ProtocolError(f"worker record: losses[{i}] must be a number, got {loss!r}")
    for key in ("time_to_first_step_s", "first_step_s", "input_wait_fraction"):
        _check_number(key, getattr(record, key))
    for key in ("time_to_first_token_s", "time_per_output_token_s"):
        _check_number(key, getattr(record, key))
    for key in ("params", "trainable_params"):
        _check_number(key, getattr(record, key), integer=True)
    for key in ("model_sha256", "input_signature"):
        _check_str(key, getattr(record, key))
    for key in ("forward_flops_per_sample", "peak_tflops"):
        _check_number(key, getattr(record, key), positive=True)
    for key in ("peak_host_memory_bytes", "peak_device_memory_bytes", "skipped_files"):
        _check_number(key, getattr(record, key), integer=True)
    _check_number("items_per_step", record.items_per_step, positive=True, integer=True)
    for key in ("error", "device_kind", "device_name", "keras_version", "backend_version"):
        _check_str(key, getattr(record, key))
    for key in ("python_version", "throughput_unit", "stop_reason"):
        _check_str(key, getattr(record, key))
    for i, name in enumerate(record.flops_uncounted):
        _check_str(f"flops_uncounted[{i}]", name)
    _validate_serving(record)
    settings = record.settings
    if not isinstance(settings, dict) or not all(isinstance(k, str) for k in settings):
        raise ProtocolError("worker record: settings must be an object with string keys")


def _validate_serving(record: RawMeasurement) -> None:
    """The serving fields' types and ranges (issue 17)."""
    for key in ("p50_ms", "p90_ms", "p99_ms", "max_latency_ms", "achieved_qps", "peak_qps"):
        _check_number(key, getattr(record, key))
    for key in ("export_s", "max_rel_error", "floor_p50_ms", "floor_max_qps"):
        _check_number(key, getattr(record, key))
    for key in GEN_FIELDS:
        if not key.endswith("_ci_ms"):
            _check_number(key, getattr(record, key))
    for key in ("n_requests", "n_dropped", "n_late", "artifact_bytes"):
        _check_number(key, getattr(record, key), integer=True)
    for key in CI_FIELDS:
        ci = getattr(record, key)
        if ci is not None and len(ci) != 2:
            raise ProtocolError(f"worker record: {key} must be [low, high], got {list(ci)!r}")
        for i, v in enumerate(ci or ()):
            _check_number(f"{key}[{i}]", v)
    _check_str("runtime", record.runtime)
    _check_str("runtime_variant", record.runtime_variant)
    for i, flag in enumerate(record.floor_flags):
        _check_str(f"floor_flags[{i}]", flag)


class PointSkipped(Exception):
    """Raised inside a worker: this point cannot run here; its first line is the reason."""


# --- failures -------------------------------------------------------------------------


# Error text that means "this backend cannot run this combination", not "a bug".
UNSUPPORTED_PATTERNS = (
    re.compile(r"only supports NHWC", re.I),
    re.compile(r"Conv2DCustomBackpropInputOp only supports NHWC", re.I),
    re.compile(r"not implemented for '(Half|BFloat16)'", re.I),
    re.compile(r"No registered '[^']+' OpKernel for '?CPU'? devices", re.I),
    re.compile(r"UNIMPLEMENTED: ", re.I),
    re.compile(r"is not supported on CPU", re.I),
)


def unsupported_error(exc: BaseException) -> str | None:
    """The reason to report ``skipped`` when ``exc`` says the combination is unsupported.

    A rule nobody wrote down yet in the launcher's checks still gives
    ``skipped`` with the backend's own reason rather than a crash.
    """
    text = f"{type(exc).__name__}: {exc}"
    for pattern in UNSUPPORTED_PATTERNS:
        if pattern.search(text):
            line = next((ln for ln in text.splitlines() if pattern.search(ln)), text)
            return f"unsupported by the backend: {line.strip()[:300]}"
    return None


def failure(exc: BaseException | str) -> RawMeasurement:
    """The record of a point that raised ``exc`` (or failed for the reason given)."""
    if isinstance(exc, str):
        return RawMeasurement("failed", error=exc[:500], python_version=platform.python_version())
    skip = (
        str(exc).splitlines()[0][:500] if isinstance(exc, PointSkipped) else unsupported_error(exc)
    )
    return RawMeasurement(
        "skipped" if skip else "failed",
        error=skip or f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
        python_version=platform.python_version(),
    )


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as JSON so that a reader sees all of it or nothing."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def write(path: Path, record: RawMeasurement) -> None:
    """Write one record to the result file (atomically)."""
    write_json_atomic(path, record.to_json())
