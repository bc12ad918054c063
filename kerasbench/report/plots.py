"""Every chart of a report, in reading order, from one report view; each chart only draws.

The HTML report inlines the charts as SVG and ``kerasbench report --format png
--out DIR`` writes them as ``DIR/<chart.name>.png``. Which rows, labels and
backend order a chart shows is decided once, by ``report.view.build_view``, so
that a page's table and its charts group the same results the same way. What
each chart draws lives in ``report.charts``: speed (throughput, step time),
overview (first step, memory), scaling and comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kerasbench.report.charts.comparison import comparison_chart
from kerasbench.report.charts.draw import (
    Chart,
    backend_colour,
    png_size,
    style,
    to_svg,
    write_pngs,
)
from kerasbench.report.charts.latency_rate import latency_rate_chart
from kerasbench.report.charts.overhead_bars import overhead_chart
from kerasbench.report.charts.overview import first_step_chart, memory_chart
from kerasbench.report.charts.speed import step_time_chart, throughput_chart
from kerasbench.report.charts.speedup import scaling_chart, scaling_lines
from kerasbench.report.overhead import overhead_rows
from kerasbench.report.view import build_view
from kerasbench.result import Result

__all__ = [
    "Chart",
    "backend_colour",
    "build_charts",
    "png_size",
    "scaling_lines",
    "to_svg",
    "write_pngs",
]


def _unique_names(charts: list[Chart]) -> list[Chart]:
    seen: dict[str, int] = {}
    for chart in charts:  # two models whose slugs collide get -2, -3, ...
        count = seen.get(chart.name, 0) + 1
        seen[chart.name] = count
        if count > 1:
            chart.name = f"{chart.name}-{count}"
    return charts


def build_charts(
    results: Sequence[Result],
    changes: Sequence[Any] | None = None,
    base: str | None = None,
    threshold: float = 0.05,
) -> list[Chart]:
    """Every chart of a report, in reading order; each name is unique.

    The repeats of a point (``run --repeats``) are pooled into one first (by the view).
    """
    view = build_view(results)
    charts: list[Chart] = []
    with style():
        for model in view.models:
            rows = view.rows_of(model)
            charts.append(throughput_chart(model, rows, view.backends))
            charts.append(step_time_chart(model, rows, view.backends))
            scaling = scaling_chart(model, [r for row in rows for r in row.cells.values()])
            if scaling is not None:
                charts.append(scaling)
            latency = latency_rate_chart(model, [r for row in rows for r in row.cells.values()])
            if latency is not None:
                charts.append(latency)
        if view.rows:
            charts.append(first_step_chart(view))
            charts.append(memory_chart(view))
        overhead = overhead_chart(overhead_rows(results, view))
        if overhead is not None:
            charts.append(overhead)
        if changes and base is not None:
            comparison = comparison_chart(changes, base, threshold)
            if comparison is not None:
                charts.append(comparison)
    return _unique_names(charts)
