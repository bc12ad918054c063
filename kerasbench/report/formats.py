"""Text formats of the same results: Markdown, CSV and JSON records.

Strings from results are escaped for the format they land in: Markdown cells,
header cells included, have ``|``, ``<``, ``>`` and ``&`` escaped; every format
but JSON (which escapes them itself) shows control characters as escapes
(``labels.safe_text``), so a stored string cannot drive the terminal that
prints the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from kerasbench.report.labels import common_unit, safe_text, speed_number, total_devices, unit
from kerasbench.report.latency import latency_markdown
from kerasbench.report.pool import pool_repeats
from kerasbench.report.view import SMOKE_NOTE, backend_order, build_view, cell_text, shown_ci
from kerasbench.result import Result


def md_escape(value: object) -> str:
    """One Markdown table cell: no table syntax, no raw HTML, no control characters."""
    # "<" and "&" as entities: Markdown renderers pass raw HTML through.
    text = safe_text(value, keep="\n").replace("&", "&amp;").replace("<", "&lt;")
    return text.replace(">", "&gt;").replace("|", "\\|").replace("\n", " ")


def md_row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(md_escape(c) for c in cells) + " |"


SEED_HEADERS = ("host", "devices", "model", "mode", "backend", "batch size", "data format")


def speed_text(result: Result) -> str:
    """ "812.3 ± 12.1": the median and half the width of its 95% CI; else the status.

    Without a CI (fewer than 6 windows): "2.87 (2 windows)".
    """
    ci = shown_ci(result)
    if result.status != "ok" or result.samples_per_sec is None or ci is None:
        return cell_text(result)
    return f"{speed_number(result.samples_per_sec)} ± {speed_number((ci[1] - ci[0]) / 2)}"


def seed_rows(results: Sequence[Result]) -> tuple[list[str], list[list[str]]]:
    """The seed's table shape: host, devices, model, backend, batch, format, speed.

    One row per point (repeats pooled), sorted by host, model, mode, devices,
    batch and backend (registry order), so that a model's backends sit together.
    """
    results = pool_repeats(results)
    order = {b: i for i, b in enumerate(backend_order(results))}

    def key(r: Result) -> tuple[object, ...]:
        return (
            r.hostname or "",
            r.model,
            r.mode,
            total_devices(r),
            r.batch_size,
            r.data_format,
            order[r.backend],
            r.label,
        )

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
    lines = [md_row(headers), "|" + "|".join("---" for _ in headers[:-1]) + "|---:|"]
    lines.extend(md_row(row) for row in rows)
    lines.append("")
    lines.append(
        "speed: median over timed windows ± half the width of its 95% confidence interval."
    )
    if any(r.status == "ok" and shown_ci(r) is None for r in pool_repeats(results)):
        lines.append(md_escape(SMOKE_NOTE[:1].upper() + SMOKE_NOTE[1:]) + ".")
    return "\n".join(lines) + "\n"


def markdown(results: Sequence[Result], ms_per_step: bool = False) -> str:
    """The comparison grid (backends side by side, fastest bold), then the seed-shaped table."""
    if not results:
        return ""
    from kerasbench.report.overhead import overhead_markdown, overhead_rows

    latency = latency_markdown(results)  # "" without serving points
    overhead = overhead_markdown(overhead_rows(results))  # "" without native baselines
    return (
        grid_markdown(results, ms_per_step)
        + "\n"
        + (latency + "\n" if latency else "")
        + seed_markdown(results)
        + (f"\n{overhead}" if overhead else "")
    )


def grid_markdown(results: Sequence[Result], ms_per_step: bool = False) -> str:
    """The comparison table as GitHub Markdown; the fastest cell is bold (``ms_per_step``:
    with each cell's median step time)."""
    view = build_view(results)
    lines = [
        md_row([*view.headers, *view.backends]),
        "|"
        + "|".join("---" for _ in view.headers)
        + "|"
        + "|".join("---:" for _ in view.backends)
        + "|",
    ]
    for row in view.rows:
        cells = []
        for backend in view.backends:
            r = row.cells.get(backend)
            text = md_escape(cell_text(r, ms_per_step)) if r else ""
            cells.append(f"**{text}**" if r and backend == row.fastest else text)
        lines.append("| " + " | ".join([*(md_escape(c) for c in row.config), *cells]) + " |")
    lines.append("")
    caption = f"{view.unit or 'throughput'}, median over timed windows ± half-width of its 95% CI"
    lines.append(md_escape(caption + "; bold: fastest."))
    if view.smoke:
        lines.append(md_escape(SMOKE_NOTE[:1].upper() + SMOKE_NOTE[1:]) + ".")
    for note in view.notes:
        lines.append(f"- {md_escape(note)}")
    return "\n".join(lines) + "\n"


def json_records(results: Sequence[Result]) -> str:
    """A JSON list of records, one per point, every field."""
    return json.dumps([r.to_dict() for r in results], indent=2) + "\n"


def csv_cell(value: object) -> object:
    """A CSV cell: lists and dicts as JSON, strings without control characters but \\n, \\t."""
    if isinstance(value, (list, dict)):
        return json.dumps(value)  # JSON escapes control characters itself
    return safe_text(value, keep="\n\t") if isinstance(value, str) else value


def csv_records(results: Sequence[Result]) -> str:
    """One CSV row per point; list and dict fields are JSON inside their cell."""
    records = [r.to_dict() for r in results]
    out = io.StringIO()
    if not records:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: csv_cell(v) for k, v in record.items()})
    return out.getvalue()
