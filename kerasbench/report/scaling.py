"""The scaling table: devices (and hosts) against throughput per backend, speedup, efficiency.

This is the seed's 1/4/8-GPU table. A scaling line is one configuration on one
backend measured at several device counts, either with the per-device batch
fixed (the global batch grows with the devices: how data-parallel training is
usually run, and how the seed's suites are set) or with the global batch
fixed (the same work split over more devices). Speedup is throughput at N
devices over throughput at the line's smallest count n0; scaling efficiency
is throughput at N / (N x throughput at 1), i.e. (T_N / N) / (T_n0 / n0),
where N counts the devices of every host. 1.0 is linear scaling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kerasbench.report.labels import safe_text
from kerasbench.report.view import FIELDS, backend_order, varying
from kerasbench.result import Result

# Configuration that tells lines apart, beside model, mode and the batch policy
# (the report view's columns; the device count is the table's own axis).
_CONFIG = [f for f in FIELDS if f.name not in ("model", "mode", "batch_size", "devices")]


@dataclass(frozen=True)
class ScalingCell:
    """One backend at one device count of a line."""

    result: Result
    samples_per_sec: float | None  # None unless the point is ok
    speedup: float | None  # over the line's smallest measured device count
    efficiency: float | None  # throughput per device over that of the smallest count

    def text(self) -> str:
        if self.samples_per_sec is None:
            return self.result.status
        text = f"{self.samples_per_sec:,.1f}"
        if self.speedup is not None and self.efficiency is not None:
            text += f"  x{self.speedup:.2f}  {self.efficiency:.0%}"
        return text


@dataclass(frozen=True)
class ScalingRow:
    """One device count of one scaling line, every backend side by side."""

    model: str
    mode: str
    batch: str  # "32/device" (per-device batch fixed) or "64 global" (global batch fixed)
    config: tuple[str, ...]  # values of ``ScalingTable.config_headers``
    devices: int  # per host
    hosts: int
    cells: dict[str, ScalingCell] = field(default_factory=dict)

    @property
    def total_devices(self) -> int:
        return self.devices * self.hosts


@dataclass(frozen=True)
class ScalingTable:
    backends: list[str]
    config_headers: tuple[str, ...]  # configuration columns that vary among the results
    rows: list[ScalingRow]


def _hosts(r: Result) -> int:
    return int(getattr(r, "num_hosts", 1) or 1)


def _throughput(r: Result) -> float | None:
    return r.samples_per_sec if r.status == "ok" and r.samples_per_sec else None


def scaling_table(results: Sequence[Result]) -> ScalingTable:
    """Every scaling line in ``results`` (lines measured at one device count are left out)."""
    shown = varying(results, _CONFIG, ())
    # line key -> (devices, hosts) -> backend -> result; a result joins both of its lines.
    lines: dict[tuple, dict[tuple[int, int], dict[str, Result]]] = {}
    for r in results:
        config = tuple(safe_text(f.text(r)) for f in shown)
        for batch in (f"{r.per_device_batch_size}/device", f"{r.batch_size} global"):
            key = (r.model, r.mode, batch, config)
            lines.setdefault(key, {}).setdefault((r.devices, _hosts(r)), {})[r.backend] = r
    rows: list[ScalingRow] = []
    for key, by_count in lines.items():
        if len(by_count) < 2:
            continue
        model, mode, batch, config = key
        counts = sorted(by_count, key=lambda c: (c[0] * c[1], c[1]))
        base: dict[str, tuple[int, float]] = {}  # backend -> (total devices, throughput)
        for devices, hosts in counts:
            row = ScalingRow(model, mode, batch, config, devices, hosts)
            for backend, r in by_count[(devices, hosts)].items():
                t = _throughput(r)
                n = devices * hosts
                if t is not None and backend not in base:
                    base[backend] = (n, t)
                speedup = efficiency = None
                if t is not None:
                    n0, t0 = base[backend]
                    speedup, efficiency = t / t0, (t / n) / (t0 / n0)
                row.cells[backend] = ScalingCell(r, t, speedup, efficiency)
            rows.append(row)
    in_rows = [c.result for row in rows for c in row.cells.values()]
    return ScalingTable(backend_order(in_rows), tuple(f.header for f in shown), rows)


def _headers(table: ScalingTable) -> list[str]:
    return ["model", "mode", "batch", *table.config_headers, "devices", "hosts", *table.backends]


def _cells(table: ScalingTable, row: ScalingRow) -> list[str]:
    by_backend = [row.cells[b].text() if b in row.cells else "" for b in table.backends]
    return [
        row.model,
        row.mode,
        row.batch,
        *row.config,
        str(row.devices),
        str(row.hosts),
        *by_backend,
    ]


CAPTION = (
    "samples/s (median over timed windows)  xspeedup over the fewest devices  scaling "
    "efficiency = throughput at N / (N x throughput at 1); N counts every host's devices"
)


def render_scaling_table(table: ScalingTable) -> object:
    """The table for a terminal (a rich Table)."""
    from rich.table import Table

    from kerasbench.report.table import text

    out = Table(title="Scaling: throughput against devices", caption=CAPTION)
    for header in _headers(table):
        right = header in table.backends or header in ("devices", "hosts")
        out.add_column(text(header), justify="right" if right else "left", no_wrap=True)
    previous = None
    for row in table.rows:
        line = (row.model, row.mode, row.batch, row.config)
        if previous is not None and line != previous:
            out.add_section()
        previous = line
        out.add_row(*(text(c) for c in _cells(table, row)))  # never markup
    return out


def scaling_markdown(table: ScalingTable) -> str:
    """The same table as GitHub Markdown."""
    from kerasbench.report.formats import md_row

    headers = _headers(table)
    numeric = {"devices", "hosts", *table.backends}
    lines = [
        md_row(headers),
        "|" + "|".join("---:" if h in numeric else "---" for h in headers) + "|",
    ]
    lines.extend(md_row(_cells(table, row)) for row in table.rows)
    lines += ["", CAPTION + "."]
    return "\n".join(lines) + "\n"


def scaling_records(table: ScalingTable) -> list[dict[str, object]]:
    """One plain record per (row, backend), for JSON."""
    records: list[dict[str, object]] = []
    for row in table.rows:
        for backend, cell in row.cells.items():
            records.append(
                {
                    "model": row.model,
                    "mode": row.mode,
                    "batch": row.batch,
                    **dict(zip(table.config_headers, row.config, strict=True)),
                    "devices": row.devices,
                    "hosts": row.hosts,
                    "total_devices": row.total_devices,
                    "backend": backend,
                    "status": cell.result.status,
                    "samples_per_sec": cell.samples_per_sec,
                    "speedup": cell.speedup,
                    "efficiency": cell.efficiency,
                }
            )
    return records
