"""The terminal table: rich, grouped by model, backends side by side, fastest marked."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from kerasbench.report.grid import build_grid
from kerasbench.result import Result


def render_table(results: Sequence[Result], title: str | None = None) -> Table:
    """The comparison grid; the title names the unit every cell shares (else a unit column does)."""
    grid = build_grid(results)
    if title is None:
        title = f"{grid.unit or 'throughput'} (median ±95% CI)"
    table = Table(title=title, caption="★ fastest backend of the row")
    for header in grid.headers:
        table.add_column(header, no_wrap=True)
    for backend in grid.backends:
        table.add_column(backend, justify="right", no_wrap=True)
    previous_model = None
    for row in grid.rows:
        model = row.config[0]
        if previous_model is not None and model != previous_model:
            table.add_section()
        previous_model = model
        cells = []
        for backend in grid.backends:
            cell = row.cells.get(backend)
            if cell is None:
                cells.append("")
            elif cell.result.status != "ok":
                cells.append(f"[yellow]{cell.text()}[/]")
            elif cell.fastest:
                cells.append(f"[bold green]★ {cell.text()}[/]")
            else:
                cells.append(cell.text())
        table.add_row(*row.config, *cells)
    return table


def notes(results: Sequence[Result]) -> list[str]:
    return build_grid(results).notes
