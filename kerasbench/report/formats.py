"""Text formats of the same results: Markdown, CSV and JSON records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from kerasbench.report.grid import build_grid
from kerasbench.report.labels import common_unit, speed_number, total_devices, unit
from kerasbench.report.pool import pool_repeats
from kerasbench.result import Result


def _md_escape(text: str) -> str:
    # "<" and "&" as entities: Markdown renderers pass raw HTML through.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ")


SEED_HEADERS = ("host", "devices", "model", "mode", "backend", "batch size", "data format")


def speed_text(result: Result) -> str:
    """ "812.3 ± 12.1": the median and half the width of its 95% CI; else the status."""
    if result.status != "ok" or result.samples_per_sec is None:
        return result.status
    text = speed_number(result.samples_per_sec)
    if result.samples_per_sec_ci:
        low, high = result.samples_per_sec_ci
        text += f" ± {speed_number((high - low) / 2)}"
    return text


def seed_rows(results: Sequence[Result]) -> tuple[list[str], list[list[str]]]:
    """The seed's table shape: host, devices, model, backend, batch, format, speed.

    One row per point (repeats pooled), sorted by host, model, mode, devices,
    batch and backend (registry order), so that a model's backends sit together.
    """
    from kerasbench.backends import BACKENDS

    order = {b: i for i, b in enumerate(BACKENDS)}

    def key(r: Result) -> tuple[object, ...]:
        return (
            r.hostname or "",
            r.model,
            r.mode,
            total_devices(r),
            r.batch_size,
            r.data_format,
            order.get(r.backend, len(order)),
            r.backend,
            r.label,
        )

    results = pool_repeats(results)
    labels = len({r.label for r in results}) > 1
    # One unit in the header when every row shares it, else one in every cell.
    shared = common_unit(results)
    headers = [*SEED_HEADERS, *(["label"] if labels else []), f"speed ({shared or 'per s'})"]
    rows = []
    for r in sorted(results, key=key):
        kind = (r.device_kind or r.device_kind_requested).upper()
        devices = f"{r.devices} × {kind}"
        if r.num_hosts > 1:
            devices = f"{r.num_hosts} hosts × {devices}"
        if r.device_name and kind != "CPU":  # a GPU's name; the CPU's is in the environment
            devices += f" ({r.device_name})"
        row = [
            r.hostname or "unknown",
            devices,
            r.model,
            r.mode,
            r.backend,
            str(r.batch_size),
            {"channels_last": "channels last", "channels_first": "channels first"}.get(
                r.data_format, r.data_format
            ),
        ]
        if labels:
            row.append(r.label)
        speed = speed_text(r)
        row.append(speed if shared or r.status != "ok" else f"{speed} {unit(r)}")
        rows.append(row)
    return headers, rows


def seed_markdown(results: Sequence[Result]) -> str:
    """The seed's table shape as Markdown, one row per point."""
    headers, rows = seed_rows(results)
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers[:-1]) + "|---:|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_md_escape(c) for c in row) + " |")
    lines.append("")
    lines.append(
        "speed: median over timed windows ± half the width of its 95% confidence interval."
    )
    return "\n".join(lines) + "\n"


def markdown(results: Sequence[Result]) -> str:
    """The comparison grid (backends side by side, fastest bold), then the seed-shaped table."""
    if not results:
        return ""
    return grid_markdown(results) + "\n" + seed_markdown(results)


def grid_markdown(results: Sequence[Result]) -> str:
    """The comparison table as GitHub Markdown; the fastest cell is bold."""
    grid = build_grid(results)
    header = [*grid.headers, *grid.backends]
    lines = [
        "| " + " | ".join(header) + " |",
        "|"
        + "|".join("---" for _ in grid.headers)
        + "|"
        + "|".join("---:" for _ in grid.backends)
        + "|",
    ]
    for row in grid.rows:
        cells = []
        for backend in grid.backends:
            cell = row.cells.get(backend)
            text = cell.text() if cell else ""
            cells.append(f"**{text}**" if cell and cell.fastest else text)
        lines.append("| " + " | ".join(_md_escape(c) for c in (*row.config, *cells)) + " |")
    lines.append("")
    lines.append(
        f"{grid.unit or 'throughput'}, median over timed windows"
        " ± half-width of its 95% CI; bold: fastest."
    )
    for note in grid.notes:
        lines.append(f"- {_md_escape(note)}")
    return "\n".join(lines) + "\n"


def json_records(results: Sequence[Result]) -> str:
    """A JSON list of records, one per point, every field."""
    return json.dumps([r.to_dict() for r in results], indent=2) + "\n"


def csv_records(results: Sequence[Result]) -> str:
    """One CSV row per point; list and dict fields are JSON inside their cell."""
    records = [r.to_dict() for r in results]
    out = io.StringIO()
    if not records:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(
            {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in record.items()}
        )
    return out.getvalue()
