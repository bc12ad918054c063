"""The latency table of serving results: percentiles per model, runtime and backend.

Shown by every report format when the results hold serving points (modes
``latency`` and ``server``): one row per configuration and backend, with
p50/p90/p99 (each ± half its 95% bootstrap CI), the maximum, the rate (the
achieved rate of a server point, the peak under the bound with --find-peak),
the export's cost, and the load generator's own floor beside them. A figure
the generator could not tell from its floor is marked (``floor_flags``). When a
causal LM's latency point is among them, TTFT and TPOT percentiles join as
columns (``kerasbench.serving.generation``); other rows show "-" there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from rich.table import Table

from kerasbench.report.labels import safe_text
from kerasbench.report.view import backend_order
from kerasbench.result import Result
from kerasbench.spec_serving import SERVING_MODES

HEADERS = ("model", "mode", "batch", "load", "runtime", "backend", "p50 ms", "p90 ms",
           "p99 ms", "max ms", "rate/s", "export s", "floor ms")  # fmt: skip
GEN_HEADERS = tuple(f"{w} {q} ms" for w in ("TTFT", "TPOT") for q in ("p50", "p90", "p99"))
GEN_NOTE = (
    "TTFT: time to first token (prefill and one token, a 1-token generate call); "
    "TPOT: time per output token, (request - TTFT) / (new tokens - 1); both per request"
)
FLOOR_NOTE = (
    "floor: the load generator's own p50 on a no-op model (this host); "
    "! marks a figure within 10x of the floor or a rate near the generator's ceiling"
)


@dataclass(frozen=True)
class LatencyRow:
    """One serving result as table cells (strings), and its warnings."""

    cells: tuple[str, ...]
    flags: tuple[str, ...]


def _ms(value: float | None, ci: tuple[float, float] | None = None) -> str:
    if value is None:
        return "-"
    text = f"{value:.3g}" if value < 10 else f"{value:.1f}"
    if ci is not None:
        text += f" ±{(ci[1] - ci[0]) / 2:.2g}"
    return text


def _load(r: Result) -> str:
    """What load the point ran under: single stream, a target rate, or a peak search."""
    if r.mode == "latency":
        return "single stream"
    text = f"p99 ≤ {r.p99_bound_ms:g} ms peak" if r.find_peak else f"{r.qps:g}/s"
    if r.max_batch > 1:
        text += f", batch ≤{r.max_batch} ({r.batch_timeout_ms:g} ms)"
    return text


def _rate(r: Result) -> str:
    rate = r.peak_qps if r.find_peak else r.achieved_qps if r.mode == "server" else None
    if rate is None and r.mode == "latency" and r.p50_ms:
        rate = 1e3 / r.p50_ms  # one stream: requests/s at the median latency
    return "-" if rate is None else f"{rate:,.1f}"


def serving_results(results: Sequence[Result]) -> list[Result]:
    """The serving points among ``results``, by model, mode, load, runtime and backend order."""
    serving = [r for r in results if r.mode in SERVING_MODES]
    order = {b: i for i, b in enumerate(backend_order(serving))}
    return sorted(
        serving,
        key=lambda r: (r.model, r.mode, r.batch_size, _load(r), r.runtime, order[r.backend]),
    )


def has_generation(results: Sequence[Result]) -> bool:
    """Whether any serving point measured generation latency (TTFT/TPOT columns)."""
    return any(r.ttft_p50_ms is not None for r in serving_results(results))


def headers(results: Sequence[Result]) -> tuple[str, ...]:
    """The table's columns: with TTFT and TPOT after ``max ms`` when a point has them."""
    if not has_generation(results):
        return HEADERS
    at = HEADERS.index("max ms") + 1
    return (*HEADERS[:at], *GEN_HEADERS, *HEADERS[at:])


def _generation(r: Result) -> tuple[str, ...]:
    """A row's TTFT and TPOT cells ("-" for a point that has none)."""
    return tuple(
        _ms(getattr(r, f"{w}_{q}_ms"), getattr(r, f"{w}_{q}_ci_ms"))
        for w in ("ttft", "tpot")
        for q in ("p50", "p90", "p99")
    )


def latency_rows(results: Sequence[Result]) -> list[LatencyRow]:
    """The table's rows; a point not measured shows its status in place of its figures."""
    rows = []
    gen = has_generation(results)
    width = len(headers(results))
    for r in serving_results(results):
        head = (r.model, r.mode, str(r.batch_size), _load(r), r.runtime, r.backend)
        if r.status != "ok" or r.p50_ms is None:
            rows.append(LatencyRow((*head, r.status, *[""] * (width - 7)), ()))
            continue
        mark = " !" if r.floor_flags else ""
        figures = (
            _ms(r.p50_ms, r.p50_ci_ms) + mark,
            _ms(r.p90_ms, r.p90_ci_ms),
            _ms(r.p99_ms, r.p99_ci_ms),
            _ms(r.max_latency_ms),
            *(_generation(r) if gen else ()),
            _rate(r),
            "-" if r.export_s is None else f"{r.export_s:.1f}",
            _ms(r.floor_p50_ms),
        )
        rows.append(LatencyRow(tuple(safe_text(c) for c in (*head, *figures)), r.floor_flags))
    return rows


def notes(results: Sequence[Result]) -> list[str]:
    """One line per warning: skipped/failed serving points and figures near the floor."""
    out = []
    for r in serving_results(results):
        who = f"{r.model} {r.mode} {r.runtime} on {r.backend}"
        if r.status != "ok" and r.error:
            out.append(safe_text(f"{who}: {r.status}: {r.error}"))
        out.extend(safe_text(f"{who}: {flag}") for flag in r.floor_flags)
    return out


def latency_table(results: Sequence[Result]) -> Table | None:
    """The terminal table, or None when no result is a serving point."""
    rows = latency_rows(results)
    if not rows:
        return None
    caption = FLOOR_NOTE + (f"; {GEN_NOTE}" if has_generation(results) else "")
    table = Table(title="latency per request (ms, ± half the 95% CI)", caption=caption)
    for header in headers(results):
        table.add_column(header, no_wrap=True, justify="left" if header[0].isalpha() else "right")
    for row in rows:
        table.add_row(*row.cells)
    return table


def latency_markdown(results: Sequence[Result]) -> str:
    """The table as GitHub Markdown ("" when no result is a serving point)."""
    rows = latency_rows(results)
    if not rows:
        return ""

    def md(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    cols = headers(results)
    lines = [md(cols), "|" + "|".join("---" if i < 6 else "---:" for i in range(len(cols))) + "|"]
    lines += [md(row.cells) for row in rows]
    lines += ["", FLOOR_NOTE[:1].upper() + FLOOR_NOTE[1:] + "."]
    lines += [GEN_NOTE[:1].upper() + GEN_NOTE[1:] + "."] if has_generation(results) else []
    lines += [f"- {note}" for note in notes(results)]
    return "\n".join(lines) + "\n"


def latency_html(results: Sequence[Result]) -> str:
    """The table as an HTML section ("" when no result is a serving point)."""
    rows = latency_rows(results)
    if not rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers(results))
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row.cells) + "</tr>" for row in rows
    )
    items = "".join(f"<li>{escape(n)}</li>" for n in notes(results))
    return (
        "<h2 id='latency'>Latency</h2>\n"
        f"<table class='latency'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n"
        f"<p>{escape(FLOOR_NOTE)}.</p>"
        + (f"<p>{escape(GEN_NOTE)}.</p>" if has_generation(results) else "")
        + (f"<ul>{items}</ul>" if items else "")
    )
