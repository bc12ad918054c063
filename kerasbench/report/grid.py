"""The comparison grid every table shares: one row per configuration, one column per backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kerasbench.backends import BACKENDS
from kerasbench.report.labels import common_unit, speed_number, unit
from kerasbench.report.pool import pool_repeats, spread_notes
from kerasbench.result import Result

# Configuration shown in a row (everything in the point key but the backend).
ROW_FIELDS = (
    "model",
    "mode",
    "dataset",
    "input",
    "batch_size",
    "devices",
    "precision",
    "data_format",
    "jit_compile",
    "image_size",
    "label",
)
ROW_HEADERS = (
    "model",
    "mode",
    "data",
    "input",
    "batch",
    "dev",
    "precision",
    "format",
    "jit",
    "size",
    "label",
)


@dataclass(frozen=True)
class Cell:
    result: Result
    fastest: bool

    def text(self) -> str:
        """ "812.3 ±1.5%" for a measured point, else its status."""
        r = self.result
        if r.status != "ok" or r.samples_per_sec is None:
            return r.status
        text = speed_number(r.samples_per_sec)
        if r.samples_per_sec_ci:
            low, high = r.samples_per_sec_ci
            half = (high - low) / 2 / r.samples_per_sec * 100
            text += f" ±{half:.1f}%"
        return text


@dataclass(frozen=True)
class Row:
    config: tuple[str, ...]
    cells: dict[str, Cell]  # backend -> cell


@dataclass(frozen=True)
class Grid:
    backends: list[str]
    headers: tuple[str, ...]
    rows: list[Row]
    notes: list[str]  # why points were skipped or failed
    unit: str | None  # what every cell counts per second; None: a unit column says per row


def _short(field: str, value: object) -> str:
    if field == "image_size" and not value:  # a model that takes no images
        return "-"
    return {"channels_last": "NHWC", "channels_first": "NCHW"}.get(str(value), str(value))


def build_grid(results: Sequence[Result]) -> Grid:
    """Group results into rows; mark the fastest ok backend of each row.

    The repeats of a point (``--repeats``) are pooled into one cell first.
    """
    results = pool_repeats(results)
    order = list(BACKENDS)
    present = {r.backend for r in results}
    backends = [b for b in order if b in present] + sorted(present - set(order))
    # A configuration column shared by every result says nothing: leave it out
    # (model, mode and batch always stay, to read the table on its own).
    varying = [
        i
        for i, f in enumerate(ROW_FIELDS)
        if f in ("model", "mode", "batch_size") or len({str(getattr(r, f)) for r in results}) > 1
    ]
    shared_unit = common_unit(results)
    rows: dict[tuple[str, ...], dict[str, Result]] = {}
    for r in results:
        key = tuple(_short(ROW_FIELDS[i], getattr(r, ROW_FIELDS[i])) for i in varying)
        if shared_unit is None:  # rows count different things (images, samples, tokens)
            key += (unit(r),)
        rows.setdefault(key, {})[r.backend] = r
    grid_rows = []
    notes = []
    for key, by_backend in rows.items():
        speeds = {
            b: r.samples_per_sec
            for b, r in by_backend.items()
            if r.status == "ok" and r.samples_per_sec is not None
        }
        best = max(speeds, key=speeds.__getitem__) if len(speeds) > 1 else None
        cells = {b: Cell(r, b == best) for b, r in by_backend.items()}
        grid_rows.append(Row(key, cells))
        for b, r in by_backend.items():
            if r.status != "ok" and r.error:
                notes.append(f"{r.model} {r.mode} on {b}: {r.status}: {r.error}")
    notes.extend(spread_notes(results))
    headers = tuple(ROW_HEADERS[i] for i in varying) + (() if shared_unit else ("unit",))
    return Grid(backends, headers, grid_rows, notes, shared_unit)
