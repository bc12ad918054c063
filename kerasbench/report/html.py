"""The HTML report: one self-contained file that opens from disk, with no network and no script.

Charts are inline SVG (``plots.to_svg``); the style sheet is inline; a
Content-Security-Policy forbids loading or running anything. Every string that
comes from a result or a run goes through ``html_tables.esc`` before it
reaches the page: a label ``<script>alert(1)</script>`` shows as that text.
The tables are built in ``html_tables``; this module assembles the page.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from kerasbench import __version__
from kerasbench.report import plots
from kerasbench.report.baseline import THRESHOLD, compare_results
from kerasbench.report.host_speed import host_speed_line
from kerasbench.report.html_tables import (
    DETAIL_HEADERS,
    comparison,
    detail_row,
    environment,
    errors,
    esc,
    grid_table,
    html_table,
    scaling_section,
    seed_table,
)
from kerasbench.report.labels import slug
from kerasbench.report.latency import latency_html
from kerasbench.report.pool import pool_repeats
from kerasbench.report.select import Query, Selection
from kerasbench.report.view import build_view

__all__ = ["DETAIL_HEADERS", "esc", "render_html", "write_html"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; font-size: .85rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.fastest { font-weight: bold; background: #eef7ee; }
td.status, span.status { color: #8a5a00; font-style: italic; }
tr.regression td, tr.broken td { background: #fdecea; }
tr.improvement td, tr.fixed td { background: #e8f5e9; }
.verdict { font-weight: bold; }
figure.chart { margin: 1rem 0 2rem; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: #555; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .3em;
          vertical-align: baseline; }
ul.notes { font-size: .85rem; }
div.wide { overflow-x: auto; }
table.detail td { white-space: nowrap; }
pre { white-space: pre-wrap; font-size: .8rem; background: #f7f7f7; padding: .4rem; }
"""

# No network, no script: the report is data, whatever its strings say.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _figure(chart: plots.Chart) -> str:
    svg = plots.to_svg(chart).replace(
        "<svg ", f'<svg role="img" aria-label="{esc(chart.title)}" ', 1
    )
    return (
        f'<figure class="chart" id="chart-{esc(chart.name)}">\n{svg}\n'
        f"<figcaption>{esc(chart.caption)}</figcaption></figure>"
    )


def overhead_section(results: list, charts: list[plots.Chart]) -> str:
    """The Keras-overhead table and chart; empty when no Keras/native rows pair up."""
    from kerasbench.report.overhead import CAPTION, HEADERS, overhead_rows, table_cells

    rows = overhead_rows(results)
    if not rows:
        return ""
    numeric = range(6, 9)
    cells = (
        [
            f"<td class='num'>{esc(c)}</td>" if i in numeric else f"<td>{esc(c)}</td>"
            for i, c in enumerate(table_cells(r))
        ]
        for r in rows
    )
    parts = [
        "<h2 id='overhead'>Keras overhead</h2>",
        f"<p>{esc(CAPTION)}</p>",
        html_table([esc(h) for h in HEADERS], cells),
    ]
    return "\n".join(parts + [_figure(c) for c in charts])


def render_html(
    selection: Selection,
    query: Query | None = None,
    title: str = "kerasbench report",
    threshold: float = THRESHOLD,
) -> str:
    """The whole report as one HTML document."""
    query = query or Query()
    results = selection.results
    changes = (
        compare_results(selection.base, results, threshold) if query.compare is not None else None
    )
    charts = plots.build_charts(results, changes, query.compare, threshold)
    models = build_view(results).models
    by_section: dict[str, list[plots.Chart]] = {}
    for chart in charts:
        by_section.setdefault(chart.section, []).append(chart)

    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    statuses = {
        s: sum(r.status == s for r in results) for s in dict.fromkeys(r.status for r in results)
    }
    counts = ", ".join(f"{n} {s}" for s, n in statuses.items())
    body = [
        f"<h1>{esc(title)}</h1>",
        f"<p>{len(results)} points ({esc(counts or 'none')}); generated {esc(generated)} "
        f"by kerasbench {esc(__version__)}. Filters: {esc('; '.join(query.describe()))}.</p>",
    ]
    scaling = scaling_section(pool_repeats(results))
    toc = ["<a href='#environment'>Environment</a>", "<a href='#summary'>Summary</a>"]
    toc += [f"<a href='#model-{esc(slug(m))}'>{esc(m)}</a>" for m in models]
    if scaling:
        toc.append("<a href='#scaling'>Scaling</a>")
    overhead = overhead_section(results, by_section.get("overhead", []))
    if overhead:
        toc.append("<a href='#overhead'>Keras overhead</a>")
    toc += ["<a href='#overview'>First step and memory</a>"]
    if changes is not None:
        toc.append("<a href='#comparison'>Comparison</a>")
    toc.append("<a href='#table'>Full table</a>")
    body.append("<nav>" + " · ".join(toc) + "</nav>")
    body.append(environment(selection))

    body.append("<h2 id='summary'>Summary</h2>")
    body.append(
        "<p>Speed is the median over timed windows ± half the width of its 95% "
        "confidence interval; ★ marks the fastest backend of a row.</p>"
    )
    body.append(seed_table(results))
    body.append(grid_table(results))
    body.append(latency_html(results))  # "" without serving points

    for model in models:
        body.append(f"<h2 id='model-{esc(slug(model))}'>{esc(model)}</h2>")
        body.extend(_figure(c) for c in by_section.get(model, []))

    if scaling:
        body.append(scaling)
    body.append(overhead)
    body.append("<h2 id='overview'>Time to first step and peak memory</h2>")
    body.extend(_figure(c) for c in by_section.get("overview", []))

    if changes is not None:
        assert query.compare is not None
        body.append("<h2 id='comparison'>Comparison</h2>")
        if not selection.base:
            body.append(
                f"<p class='status'>No results labelled or in run {esc(query.compare)}.</p>"
            )
        body.extend(_figure(c) for c in by_section.get("comparison", []))
        body.append(comparison(changes, query.compare, threshold))
        host = host_speed_line(selection.base, results, "this report's results")
        if host:  # the probes around each point (kerasbench.probe) differ beyond 5%
            body.append(f"<p class='status'>Note: {esc(host)}, against {esc(query.compare)}.</p>")

    body.append("<h2 id='table'>Full table</h2>")
    body.append(html_table(DETAIL_HEADERS, (detail_row(r) for r in results), "detail"))
    body.append(errors(results))

    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )


def write_html(path: Path, selection: Selection, query: Query | None = None) -> Path:
    """Write the report to ``path`` (its folder is created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(selection, query), encoding="utf-8")
    return path
