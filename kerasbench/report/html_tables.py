"""The tables of the HTML report: environment, summary grid, scaling, comparison, details.

Building blocks for every HTML cell live here too. Every string that comes
from a result or a run (model names, labels, hostnames, paths, error
messages) goes through ``esc`` before it reaches the page: a label
``<script>alert(1)</script>`` shows as that text, and control characters are
shown as escapes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from kerasbench.report.baseline import BAD, GOOD, Change, rule
from kerasbench.report.charts.draw import backend_colour
from kerasbench.report.formats import seed_rows
from kerasbench.report.labels import safe_text, total_devices
from kerasbench.report.select import Selection
from kerasbench.report.view import SMOKE_NOTE, build_view, cell_text, shown_ci
from kerasbench.result import Result
from kerasbench.store import RunInfo


def esc(value: object) -> str:
    """Text for HTML, quotes included (safe in element content and attribute values)."""
    return html.escape(safe_text(value, keep="\n"), quote=True)


def html_table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
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


def environment(selection: Selection) -> str:
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
            html_table(["", ""], ([f"<th>{esc(k)}</th>", _td(v)] for k, v in rows if v is not None))
        )
    if selection.runs:
        parts.append("<h3>Runs</h3>")
        parts.append(
            html_table(
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
            html_table(
                ["backend", "version", "keras"],
                ([_backend_td(b), _td(v or "unknown"), _td(k or "unknown")] for b, v, k in seen),
            )
        )
    return "\n".join(parts)


def _backend_td(backend: str) -> str:
    colour = backend_colour(backend)  # a fixed palette value, not user text
    return f'<td><span class="swatch" style="background:{colour}"></span>{esc(backend)}</td>'


def seed_table(results: Sequence[Result]) -> str:
    headers, rows = seed_rows(results)
    return html_table([esc(h) for h in headers], ([_td(c) for c in row] for row in rows))


def scaling_section(results: Sequence[Result]) -> str:
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
    return f"<h2 id='scaling'>Scaling</h2><p>{esc(CAPTION)}.</p>" + html_table(
        [esc(h) for h in (*headers, *table.backends)], rows
    )


def grid_table(results: Sequence[Result]) -> str:
    view = build_view(results)
    rows = []
    for row in view.rows:
        cells = [_td(c) for c in row.config]
        for backend in view.backends:
            r = row.cells.get(backend)
            if r is None:
                cells.append("<td></td>")
            elif r.status != "ok":
                cells.append(_td(cell_text(r), "status"))
            else:
                fastest = backend == row.fastest
                star = "★ " if fastest else ""
                cells.append(_td(star + cell_text(r), "num fastest" if fastest else "num"))
        rows.append(cells)
    headers = [esc(h) for h in view.headers] + [esc(b) for b in view.backends]
    table = html_table(headers, rows)
    smoke = [SMOKE_NOTE] if view.smoke else []
    notes = "".join(f"<li>{esc(n)}</li>" for n in [*smoke, *view.notes])
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


def detail_row(r: Result) -> list[str]:
    ci = shown_ci(r)
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
        _td(f"{ci[0]:,.1f} – {ci[1]:,.1f}" if ci else "none", "num"),
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


def errors(results: Sequence[Result]) -> str:
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


def comparison(changes: Sequence[Change], base: str, threshold: float) -> str:
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
