"""Text formats of the same results: Markdown, CSV and JSON records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from kerasbench.report.grid import build_grid
from kerasbench.result import Result


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(results: Sequence[Result]) -> str:
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
    lines.append("samples/s, median over timed windows ± half-width of its 95% CI; bold: fastest.")
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
