"""The terminal table: rich, grouped by model, backends side by side, fastest marked.

Every string from a result (labels, backend names, units, errors) reaches Rich
as ``Text``, never as markup: a label ``[/]`` is shown, not parsed, and
``[link=...]`` makes no link. Control characters are shown as escapes
(``labels.safe_text``), so a stored string cannot drive the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from kerasbench.report.labels import safe_text
from kerasbench.report.view import SMOKE_NOTE, build_view, cell_text
from kerasbench.result import Result


def text(value: object, style: str = "") -> Text:
    """A Rich cell that shows ``value`` literally (no markup, no control characters)."""
    return Text(safe_text(value), style=style)


def _cell(
    row_cells: dict[str, Result], fastest: str | None, backend: str, ms: bool = False
) -> Text:
    result = row_cells.get(backend)
    if result is None:
        return Text("")
    if result.status != "ok":
        return text(cell_text(result), "yellow")
    if backend == fastest:
        return text(f"★ {cell_text(result, ms)}", "bold green")
    return text(cell_text(result, ms))


def render_table(
    results: Sequence[Result], title: str | None = None, ms_per_step: bool = False
) -> Table:
    """The comparison grid; the title names the unit every cell shares (else a unit column does).

    ``ms_per_step`` adds each cell's median step time (``report --unit ms/step``)."""
    view = build_view(results)
    if title is None:
        title = f"{view.unit or 'throughput'} (median ±95% CI)"
        title += " | ms/step (median)" if ms_per_step else ""
    caption = "★ fastest backend of the row"
    if view.smoke:
        caption += f"; {SMOKE_NOTE}"
    table = Table(title=text(title), caption=text(caption))
    for header in view.headers:
        table.add_column(text(header), no_wrap=True)
    for backend in view.backends:
        table.add_column(text(backend), justify="right", no_wrap=True)
    previous_model = None
    for row in view.rows:
        if previous_model is not None and row.model != previous_model:
            table.add_section()
        previous_model = row.model
        cells = [_cell(row.cells, row.fastest, b, ms_per_step) for b in view.backends]
        table.add_row(*(text(c) for c in row.config), *cells)
    return table


def notes(results: Sequence[Result]) -> list[str]:
    """Why points were skipped or failed, spread between processes, drift (one line each)."""
    return build_view(results).notes
