"""Reports written to files: one HTML page, a folder of PNG charts, or a text format."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from kerasbench.report.select import Query, Selection
from kerasbench.result import Result

DEFAULT_OUT = {"html": "report.html", "png": "report-charts"}


def write_report(fmt: str, out: str | None, selection: Selection, query: Query) -> list[Path]:
    """Write a report to ``out``; returns the paths written.

    html: one page; png: one file per chart in the folder ``out``; the text
    formats: one file. Raises OSError when the destination cannot be written
    (e.g. a file where a folder should be).
    """
    if fmt not in DEFAULT_OUT:
        if out is None:
            raise ValueError(f"{fmt}: a text format needs a file to write to")
        return [write_text(out, fmt, selection.results)]
    target = Path(out or DEFAULT_OUT[fmt])
    if fmt == "html":
        from kerasbench.report.html import write_html

        return [write_html(target, selection, query)]
    else:
        from kerasbench.report import plots
        from kerasbench.report.baseline import THRESHOLD, compare_results

        if target.exists() and not target.is_dir():
            raise NotADirectoryError(20, "not a folder", str(target))
        changes = None
        if query.compare is not None:
            changes = compare_results(selection.base, selection.results, THRESHOLD)
        charts = plots.build_charts(selection.results, changes, query.compare, THRESHOLD)
        return plots.write_pngs(charts, target)


def render_text(fmt: str, results: Sequence[Result]) -> str:
    """A text format (table, markdown, csv, json) as a string."""
    from kerasbench.report import formats

    if fmt == "markdown":
        return formats.markdown(results)
    if fmt == "csv":
        return formats.csv_records(results)
    if fmt == "json":
        return formats.json_records(results)
    if fmt == "table":
        from rich.console import Console

        from kerasbench.report.table import notes, render_table

        console = Console(width=160, record=True, file=io.StringIO())
        console.print(render_table(results))
        for note in notes(results):
            console.print(f"  {note}", highlight=False, markup=False)
        from kerasbench.commands import print_overhead

        print_overhead(console, list(results))
        return console.export_text()
    raise ValueError(f"not a text format: {fmt}")


def write_text(out: str, fmt: str, results: Sequence[Result]) -> Path:
    """Write a text format to ``out``; returns the path."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_text(fmt, results), encoding="utf-8")
    return path
