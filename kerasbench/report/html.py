"""The HTML report: one self-contained file that opens from disk, with no network and no script.

Charts are inline SVG (``plots.to_svg``); the style sheet is inline; a
Content-Security-Policy forbids loading or running anything. Every string that
comes from a result or a run (model names, labels, hostnames, paths, error
messages) goes through ``esc`` before it reaches the page: a label
``<script>alert(1)</script>`` shows as that text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kerasbench import __version__
from kerasbench.report import plots
from kerasbench.report.delta import BAD, GOOD, THRESHOLD, Change, compare_results, rule
from kerasbench.report.formats import seed_rows
from kerasbench.report.grid import build_grid
from kerasbench.report.labels import slug, total_devices
from kerasbench.report.pool import pool_repeats
from kerasbench.report.select import Query, Selection
from kerasbench.result import Result
from kerasbench.store import RunInfo

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


def esc(value: object) -> str:
    """Text for HTML, quotes included (safe in element content and attribute values)."""
    return html.escape("" if value is None else str(value), quote=True)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """A table from already-escaped cell HTML."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if any(headers) else ""
    body = "\n".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<div class='wide'><table{attr}>{thead}<tbody>\n{body}\n</tbody></table></div>"


def _td(text: object, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{esc(text)}</td>"


def _num(value: float | None, fmt: str = "{:,.1f}") -> str:
    return _td("", "num") if value is None else _td(fmt.format(value), "num")


def _mib(value: int | None) -> str:
    return _num(None if value is None else value / 2**20, "{:,.0f}")


# --- sections -------------------------------------------------------------------


def _hosts(results: Sequence[Result], runs: Sequence[RunInfo]) -> list[dict[str, Any]]:
    """Distinct host descriptions, from the runs' host records, else from the results."""
    hosts: list[dict[str, Any]] = []
    for run in runs:
        if isinstance(run.host, dict) and run.host and run.host not in hosts:
            hosts.append(run.host)
    known = {h.get("hostname") for h in hosts}
    for r in results:
        if r.hostname not in known:
            known.add(r.hostname)
            hosts.append({"hostname": r.hostname, "cpu": r.cpu, "cpu_count": r.cpu_count})
    return hosts


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _environment(selection: Selection) -> str:
    parts = ["<h2 id='environment'>Environment</h2>"]
    for host in _hosts(selection.results, selection.runs):
        # host_json is whatever the run wrote: show what has the expected shape.
        memory = host.get("memory_bytes")
        memory = memory if isinstance(memory, (int, float)) and memory > 0 else None
        versions = _mapping(host.get("backend_versions"))
        gpus = host.get("gpus")
        gpus = [str(g) for g in gpus] if isinstance(gpus, list) else []
        rows = [
            ("host", host.get("hostname")),
            ("os", host.get("os")),
            ("cpu", host.get("cpu")),
            ("usable cores", host.get("cpu_count")),
            ("memory", f"{memory / 2**30:.1f} GiB" if memory else None),
            ("gpus", ", ".join(gpus) or ("none" if "gpus" in host else None)),
            ("python", host.get("python_version")),
            ("keras", host.get("keras_version")),
            *((name, v or "not installed") for name, v in versions.items()),
            *_mapping(host.get("extra_versions")).items(),
            ("kerasbench", host.get("kerasbench_version")),
            ("commit", host.get("git_commit")),
        ]
        parts.append(
            _table(["", ""], ([f"<th>{esc(k)}</th>", _td(v)] for k, v in rows if v is not None))
        )
    if selection.runs:
        parts.append("<h3>Runs</h3>")
        parts.append(
            _table(
                ["run", "suite", "label", "started", "finished", "status"],
                (
                    [
                        _td(run.run_id),
                        _td(run.suite),
                        _td(run.label),
                        _td(run.started_at),
                        _td(run.finished_at),
                        _td(run.status),
                    ]
                    for run in selection.runs
                ),
            )
        )
    # What each backend actually ran with, from the results themselves (a point
    # that failed before importing its backend knows no versions).
    seen: dict[tuple[str, str | None, str | None], None] = {}
    for r in selection.results:
        if r.backend_version or r.keras_version:
            seen.setdefault((r.backend, r.backend_version, r.keras_version), None)
    if seen:
        parts.append("<h3>Backends measured</h3>")
        parts.append(
            _table(
                ["backend", "version", "keras"],
                ([_backend_td(b), _td(v or "unknown"), _td(k or "unknown")] for b, v, k in seen),
            )
        )
    return "\n".join(parts)


def _backend_td(backend: str) -> str:
    colour = plots.backend_colour(backend)  # a fixed palette value, not user text
    return f'<td><span class="swatch" style="background:{colour}"></span>{esc(backend)}</td>'


def _figure(chart: plots.Chart) -> str:
    svg = plots.to_svg(chart).replace(
        "<svg ", f'<svg role="img" aria-label="{esc(chart.title)}" ', 1
    )
    return (
        f'<figure class="chart" id="chart-{esc(chart.name)}">\n{svg}\n'
        f"<figcaption>{esc(chart.caption)}</figcaption></figure>"
    )


def _seed_table(results: Sequence[Result]) -> str:
    headers, rows = seed_rows(results)
    return _table([esc(h) for h in headers], ([_td(c) for c in row] for row in rows))


def _scaling_section(results: Sequence[Result]) -> str:
    """The scaling table (report.scaling) when some configuration ran at several device counts."""
    from kerasbench.report.scaling import CAPTION, scaling_table

    table = scaling_table(results)
    if not table.rows:
        return ""
    headers = ["model", "mode", "batch", *table.config_headers, "devices", "hosts"]
    rows = []
    for row in table.rows:
        cells = [_td(row.model), _td(row.mode), _td(row.batch), *(_td(c) for c in row.config)]
        cells += [_td(row.devices, "num"), _td(row.hosts, "num")]
        for backend in table.backends:
            cell = row.cells.get(backend)
            if cell is None:
                cells.append("<td></td>")
            else:
                cells.append(_td(cell.text(), "num" if cell.samples_per_sec else "status"))
        rows.append(cells)
    return f"<h2 id='scaling'>Scaling</h2><p>{esc(CAPTION)}.</p>" + _table(
        [esc(h) for h in (*headers, *table.backends)], rows
    )


def _grid_table(results: Sequence[Result]) -> str:
    grid = build_grid(results)
    rows = []
    for row in grid.rows:
        cells = [_td(c) for c in row.config]
        for backend in grid.backends:
            cell = row.cells.get(backend)
            if cell is None:
                cells.append("<td></td>")
            elif cell.result.status != "ok":
                cells.append(_td(cell.text(), "status"))
            else:
                star = "★ " if cell.fastest else ""
                cells.append(_td(star + cell.text(), "num fastest" if cell.fastest else "num"))
        rows.append(cells)
    headers = [esc(h) for h in grid.headers] + [esc(b) for b in grid.backends]
    table = _table(headers, rows)
    notes = "".join(f"<li>{esc(n)}</li>" for n in grid.notes)
    return table + (f"<ul class='notes'>{notes}</ul>" if notes else "")


DETAIL_HEADERS = (
    "model",
    "backend",
    "mode",
    "batch",
    "devices",
    "format",
    "precision",
    "label",
    "status",
    "samples/s",
    "95% CI",
    "step (ms)",
    "CV",
    "windows",
    "first step (s)",
    "host peak (MiB)",
    "device peak (MiB)",
    "versions",
    "host",
    "started",
    "run",
)


def _detail_row(r: Result) -> list[str]:
    ci = r.samples_per_sec_ci
    return [
        _td(r.model),
        _backend_td(r.backend),
        _td(r.mode),
        _td(r.batch_size, "num"),
        _td(f"{total_devices(r)} × {r.device_kind or r.device_kind_requested}"),
        _td(r.data_format),
        _td(r.precision),
        _td(r.label),
        _td(r.status, "" if r.status == "ok" else "status"),
        _num(r.samples_per_sec),
        _td(f"{ci[0]:,.1f} – {ci[1]:,.1f}" if ci else "", "num"),
        _num(r.step_time_ms, "{:,.2f}"),
        _num(None if r.step_time_cv is None else r.step_time_cv * 100, "{:.1f}%"),
        _td("" if r.n_windows is None else f"{r.n_windows} × {r.window_steps}", "num"),
        _num(r.time_to_first_step_s, "{:,.2f}"),
        _mib(r.peak_host_memory_bytes),
        _mib(r.peak_device_memory_bytes),
        _td(f"keras {r.keras_version or '?'}, {r.backend} {r.backend_version or '?'}"),
        _td(r.hostname),
        _td(r.started_at),
        _td(r.run_id),
    ]


def _errors(results: Sequence[Result]) -> str:
    items = []
    for r in results:
        if r.status == "ok":
            continue
        detail = f"<pre>{esc(r.stderr_tail)}</pre>" if r.stderr_tail else ""
        items.append(
            f"<li><strong>{esc(r.model)} {esc(r.mode)} on {esc(r.backend)}</strong>: "
            f"<span class='status'>{esc(r.status)}</span>: {esc(r.error)}{detail}</li>"
        )
    if not items:
        return ""
    return "<h3>Points not measured</h3><ul class='notes'>" + "".join(items) + "</ul>"


def _count(words: Sequence[str]) -> str:
    """ "3 ok, 1 failed": how many of each, in order of first appearance."""
    return ", ".join(f"{words.count(w)} {w}" for w in dict.fromkeys(words))


def _speed(r: Result | None) -> str:
    if r is None:
        return _td("")
    if r.status != "ok":
        return _td(r.status, "status")
    return _num(r.samples_per_sec)


def _comparison(changes: Sequence[Change], base: str, threshold: float) -> str:
    counts = {
        v: sum(c.verdict == v for c in changes) for v in dict.fromkeys(c.verdict for c in changes)
    }
    summary = ", ".join(f"{n} {v}" for v, n in counts.items()) or "no points to compare"
    rows = []
    order = {v: i for i, v in enumerate((*BAD, *GOOD))}
    for c in sorted(changes, key=lambda c: order.get(c.verdict, len(order))):
        r, b = c.current, c.base
        mark = "▼ " if c.verdict in BAD else "▲ " if c.verdict in GOOD else ""
        cells = [
            _td(r.model),
            _backend_td(r.backend),
            _td(r.mode),
            _td(r.batch_size, "num"),
            _td(total_devices(r), "num"),
            _td(r.label),
            _speed(b),
            _speed(r),
            _td("" if c.percent is None else f"{c.percent:+.1f}%", "num"),
            _td(f"{c.ratio_ci[0]:.3f} – {c.ratio_ci[1]:.3f}" if c.ratio_ci else "", "num"),
            _td("" if c.p_value is None else f"{c.p_value:.2g}", "num"),
            f"<td class='verdict'>{esc(mark + c.verdict)}</td>",
            _td("; ".join(filter(None, [c.reason, *c.marks]))),
        ]
        rows.append(f"<tr class='{esc(c.verdict.replace(' ', '-'))}'>{''.join(cells)}</tr>")
    headers = [
        "model",
        "backend",
        "mode",
        "batch",
        "devices",
        "label",
        f"{esc(base)} (samples/s)",
        "now (samples/s)",
        "change",
        "ratio 95% CI",
        "p",
        "verdict",
        "note",
    ]
    head = "".join(f"<th>{h}</th>" for h in headers)
    table = (
        f"<div class='wide'><table><thead><tr>{head}</tr></thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )
    return (
        f"<p>Against <strong>{esc(base)}</strong>: {esc(summary)}. {esc(rule(threshold))} "
        "▼ regression, ▲ improvement.</p>" + table
    )


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
    scaling = _scaling_section(pool_repeats(results))
    toc = ["<a href='#environment'>Environment</a>", "<a href='#summary'>Summary</a>"]
    toc += [f"<a href='#model-{esc(slug(m))}'>{esc(m)}</a>" for m in plots.models_of(results)]
    if scaling:
        toc.append("<a href='#scaling'>Scaling</a>")
    toc += ["<a href='#overview'>First step and memory</a>"]
    if changes is not None:
        toc.append("<a href='#comparison'>Comparison</a>")
    toc.append("<a href='#table'>Full table</a>")
    body.append("<nav>" + " · ".join(toc) + "</nav>")
    body.append(_environment(selection))

    body.append("<h2 id='summary'>Summary</h2>")
    body.append(
        "<p>Speed is the median over timed windows ± half the width of its 95% "
        "confidence interval; ★ marks the fastest backend of a row.</p>"
    )
    body.append(_seed_table(results))
    body.append(_grid_table(results))

    for model in plots.models_of(results):
        body.append(f"<h2 id='model-{esc(slug(model))}'>{esc(model)}</h2>")
        body.extend(_figure(c) for c in by_section.get(model, []))

    if scaling:
        body.append(scaling)
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
        body.append(_comparison(changes, query.compare, threshold))

    body.append("<h2 id='table'>Full table</h2>")
    body.append(_table(DETAIL_HEADERS, (_detail_row(r) for r in results), "detail"))
    body.append(_errors(results))

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
