"""Latency against request rate, per model: one line per backend and runtime (it only draws).

The points are the server results (their achieved rate and p50/p99) and the
rates a --find-peak search tried (their p99); a bound searched under is drawn
as a dashed line. Single-stream (latency mode) points have no rate of their
own and are left to the latency table.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.lines import Line2D

from kerasbench.report.charts.draw import Chart, backend_colour, figure
from kerasbench.report.labels import safe_text
from kerasbench.result import Result

_RUNTIME_MARKERS = ("o", "s", "^", "D", "v", "P")


def curve(results: Sequence[Result]) -> list[tuple[float, float, float | None]]:
    """(rate, p99 ms, p50 ms or None) of measured server results and peak-search trials."""
    points = []
    for r in results:
        if r.status != "ok" or r.mode != "server":
            continue
        if r.achieved_qps is not None and r.p99_ms is not None:
            points.append((r.achieved_qps, r.p99_ms, r.p50_ms))
        for trial in r.settings.get("serving_peak_trials") or ():
            qps, p99 = trial.get("qps"), trial.get("p99_ms")
            if isinstance(qps, (int, float)) and isinstance(p99, (int, float)):
                points.append((float(qps), float(p99), None))
    return sorted(set(points), key=lambda p: p[0])


def latency_rate_chart(model: str, results: Sequence[Result]) -> Chart | None:
    """p99 (solid) and p50 (dotted) latency against rate for ``model``; None without points."""
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        if r.model == model and r.mode == "server":
            groups.setdefault((r.backend, r.runtime), []).append(r)
    curves = {key: curve(rs) for key, rs in groups.items()}
    curves = {key: c for key, c in curves.items() if c}
    if not curves:
        return None
    fig, (ax,) = figure(1)
    runtimes = sorted({rt for _, rt in curves})
    handles = []
    for (backend, runtime), points in sorted(curves.items()):
        colour = backend_colour(backend)
        marker = _RUNTIME_MARKERS[runtimes.index(runtime) % len(_RUNTIME_MARKERS)]
        label = safe_text(f"{backend}, {runtime}")
        xs = [p[0] for p in points]
        ax.plot(xs, [p[1] for p in points], marker=marker, color=colour, label=label)
        p50 = [(p[0], p[2]) for p in points if p[2] is not None]
        if p50:
            ax.plot(*zip(*p50, strict=True), linestyle=":", marker=marker, color=colour, alpha=0.6)
        handles.append(Line2D([], [], color=colour, marker=marker, label=label))
    bounds = sorted({r.p99_bound_ms for rs in groups.values() for r in rs if r.p99_bound_ms})
    for bound in bounds:
        ax.axhline(bound, linestyle="--", color="grey", linewidth=1)
    ax.set_xlabel("requests/s (achieved, or tried by the peak search)")
    ax.set_ylabel("latency (ms): p99 solid, p50 dotted")
    ax.set_yscale("log")
    ax.set_title(safe_text(model))
    ax.legend(handles=handles, frameon=False, fontsize="small")
    title = f"{safe_text(model)}: latency against request rate"
    caption = (
        "Server scenario: Poisson arrivals at each rate, latency from a request's arrival "
        "to its result (queueing included). Dashed: the p99 bound of a peak search."
    )
    return Chart(f"latency-rate-{model}", title, fig, model, caption)
