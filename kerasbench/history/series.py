"""One configuration's results over time: grouped, ordered by date or by a package's version.

A history series is every successful result of one configuration (``Result.point_key``:
same model, backend, mode, batch, ...) in order: by ``started_at`` (the default), or by
the version of one package (``by="keras"``), results of the same version kept together
in date order. Each entry is one result's median throughput: the history compares runs,
and between runs is where this machine's noise lives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from packaging.version import InvalidVersion, Version

from kerasbench.result import Result

# The importable package a backend's ``backend_version`` is the version of.
BACKEND_PACKAGES = {
    "jax": "jax",
    "tensorflow": "tensorflow",
    "torch": "torch",
    "openvino": "openvino",
    "mxnet": "mxnet",
    "tf-keras": "tensorflow",
}


def _norm(name: str) -> str:
    """A distribution name as PEP 503 compares them (case, '-', '_' and '.' alike)."""
    return name.lower().replace("_", "-").replace(".", "-")


def package_version(result: Result, package: str) -> str | None:
    """The version of ``package`` that ``result`` ran with, if the record says.

    Looked up in a ``versions`` mapping (on the record, or in its settings, where named
    environments record every installed package), then in the dedicated fields:
    ``keras_version``, ``python_version`` and ``backend_version`` (the backend's package).
    """
    wanted = _norm(package)
    for versions in (getattr(result, "versions", None), result.settings.get("versions")):
        if isinstance(versions, Mapping):
            for name, version in versions.items():
                if _norm(str(name)) == wanted and version:
                    return str(version)
    if wanted == "keras" or (wanted == "tf-keras" and result.backend == "tf-keras"):
        return result.keras_version
    if wanted == "python":
        return result.python_version
    if BACKEND_PACKAGES.get(result.backend) == wanted:
        return result.backend_version
    return None


@dataclass(frozen=True)
class Entry:
    """One result in a series: its place (date or version), throughput and step times."""

    label: str  # the date (YYYY-MM-DD HH:MM) or the package version
    throughput: float  # the result's median throughput (samples/s or tokens/s)
    result: Result


@dataclass(frozen=True)
class Series:
    """The ordered results of one configuration; ``groups`` are runs of equal version."""

    key: str  # Result.point_key
    title: str
    unit: str
    by: str | None  # None: by date; else the package whose version orders the results
    entries: tuple[Entry, ...]
    dropped: int  # results left out: no date, or no readable version of ``by``

    @property
    def boundaries(self) -> tuple[int, ...]:
        """Indices where a new version starts (by version) or every index (by date)."""
        if self.by is None:
            return tuple(range(1, len(self.entries)))
        labels = [e.label for e in self.entries]
        return tuple(i for i in range(1, len(labels)) if labels[i] != labels[i - 1])


def title(result: Result, with_env: bool = True) -> str:
    """A short name of a configuration for terminal lines (``with_env``: its environment)."""
    parts = [result.model, result.backend, result.mode, f"batch {result.batch_size}"]
    if with_env and result.env:
        parts.append(f"env {result.env}")
    if result.devices != 1 or result.num_hosts != 1:
        parts.append(f"{result.num_hosts}x{result.devices} {result.device_kind_requested}")
    elif result.device_kind_requested not in ("auto", "cpu"):
        parts.append(result.device_kind_requested)
    if result.precision not in ("float32", ""):
        parts.append(result.precision)
    return " ".join(parts)


def series_key(result: Result, by: str | None) -> str:
    """The configuration a result belongs to in a history: its point key, and by a
    package's version without its environment.

    ``env`` is part of a point's identity, but ordering by a package's version means
    comparing the environments that hold the versions (``run --env k310,k311``): keyed
    by environment, each release would be a history of its own with no step to find.
    """
    return result.point_key if by is None else replace(result, env="").point_key


def _entry(result: Result, label: str) -> Entry | None:
    speed = result.samples_per_sec
    if result.status != "ok" or not speed or speed <= 0:
        return None
    return Entry(label, float(speed), result)


def _started(result: Result) -> datetime | None:
    try:
        when = datetime.fromisoformat(result.started_at or "")
    except ValueError:
        return None
    return when.replace(tzinfo=None) if when.tzinfo is None else when


def _order_key(result: Result, by: str | None) -> tuple[Any, ...] | None:
    when = _started(result)
    if by is None:
        return None if when is None else (when.timestamp(),)
    raw = package_version(result, by)
    try:
        version = Version(raw or "")
    except InvalidVersion:
        return None
    return (version, when.timestamp() if when else 0.0)


def _label(result: Result, by: str | None) -> str:
    if by is None:
        when = _started(result)
        return when.strftime("%Y-%m-%d %H:%M") if when else "?"
    return str(package_version(result, by))


def build_series(
    results: Iterable[Result],
    by: str | None = None,
    models: Iterable[str] = (),
    backends: Iterable[str] = (),
) -> list[Series]:
    """The history series of every configuration among ``results`` (ok results only).

    ``by``: None orders by ``started_at``; a package name orders by its version
    (``packaging.version``), ties by date. ``models``/``backends`` keep only those.
    """
    keep_models, keep_backends = set(models), set(backends)
    grouped: dict[str, list[tuple[tuple[Any, ...], Entry]]] = defaultdict(list)
    dropped: dict[str, int] = defaultdict(int)
    for result in results:
        if keep_models and result.model not in keep_models:
            continue
        if keep_backends and result.backend not in keep_backends:
            continue
        entry = _entry(result, _label(result, by))
        if entry is None:
            continue
        key = series_key(result, by)
        order = _order_key(result, by)
        if order is None:
            dropped[key] += 1
            continue
        grouped[key].append((order, entry))
    series = []
    for key, items in grouped.items():
        items.sort(key=lambda item: item[0])
        entries = tuple(e for _, e in items)
        first = entries[0].result
        series.append(
            Series(
                key,
                title(first, by is None),
                first.throughput_unit,
                by,
                entries,
                dropped.get(key, 0),
            )
        )
    return sorted(series, key=lambda s: s.title)
