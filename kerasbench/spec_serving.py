"""The serving fields of a Spec (issue 17): their allowed values and ranges.

Kept apart from ``kerasbench.spec`` so that the Spec module stays one screenful
per concern; ``Spec.__post_init__`` calls ``check_serving``.
Whether a point can actually serve (an installed runtime, a single-input model)
is the rule book's question (``kerasbench.feasibility``), not a validation error.
"""

from __future__ import annotations

from typing import Any

# latency and server: the serving scenarios (kerasbench.serving); predict is the offline one.
SERVING_MODES = ("latency", "server")
# The backend's own call, or the model exported by ``model.export`` (equal to
# kerasbench.serving.RUNTIMES, which imports numpy; a test pins the two together).
RUNTIMES = ("keras", "saved_model", "onnx", "openvino", "litert", "torch_export")
_LIMITS = {
    "qps": 1e7,
    "batch_timeout_ms": 60_000.0,
    "p99_bound_ms": 3_600_000.0,
    "duration": 7 * 24 * 3600.0,
    "serving_max_time": 7 * 24 * 3600.0,
}
_POSITIVE = ("duration", "serving_max_time")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def problem(spec: Any) -> str | None:
    """What is wrong with ``spec``'s serving fields, in one line, or None."""
    if spec.runtime not in RUNTIMES:
        return f"runtime: unknown value {spec.runtime!r}; valid: {', '.join(RUNTIMES)}"
    if not isinstance(spec.find_peak, bool):
        return f"find_peak: expected true or false, got {spec.find_peak!r}"
    for key, high in (("max_batch", 4096), ("min_requests", 10_000_000)):
        value = getattr(spec, key)
        if not _is_int(value) or not 1 <= value <= high:
            return f"{key}: expected an integer in [1, {high}], got {value!r}"
    for key, high in _LIMITS.items():
        value = getattr(spec, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{key}: expected a number, got {value!r}"
        low_ok = value > 0 if key in _POSITIVE else value >= 0
        if not (low_ok and value <= high):
            low = "(0" if key in _POSITIVE else "[0"
            return f"{key}: {value} is out of range {low}, {high:g}]"
    return None


def check_serving(spec: Any, error: type[Exception]) -> None:
    """Raise ``error`` with ``problem``'s message when the serving fields are wrong."""
    message = problem(spec)
    if message:
        raise error(message)
