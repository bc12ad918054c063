"""The history page: per configuration, a timeline of its results with the change points marked.

One self-contained HTML file, like the report (``report.html``): inline SVG drawn
with ``charts.draw``, the report's style sheet and Content-Security-Policy, every
string from a result escaped. Each timeline plots every result's throughput in
order (by date, or by a package's version), the level of each segment as a
horizontal line, and each significant step as a dashed vertical line labelled with
its size and p-value; under it, the same lines ``kerasbench history`` prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from kerasbench import __version__
from kerasbench.history import History, history_lines, newest_regression, timeline
from kerasbench.report.charts.draw import Chart, figure, short_number, style, to_svg
from kerasbench.report.html import _CSP, _CSS, esc

MAX_TICKS = 12  # x labels shown; the others are thinned out


def timeline_chart(history: History, index: int, threshold: float) -> Chart:
    """One configuration's timeline: points, segment levels, change points."""
    data = timeline(history)
    with style():
        fig, (ax,) = figure(1)
        fig.set_size_inches(max(7.0, min(14.0, 0.35 * len(data["points"]) + 4)), 3.4)
        xs = list(range(len(data["points"])))
        ys = [p["throughput"] for p in data["points"]]
        ax.plot(xs, ys, "o", color="#1f77b4", markersize=4, label="result")
        for seg in data["segments"]:
            ax.hlines(seg["throughput"], seg["start"] - 0.4, seg["end"] - 0.6, colors="#444")
        for step in data["steps"]:
            colour = "#c62828" if step["ratio"] < 1 else "#2e7d32"
            ax.axvline(step["at"] - 0.5, color=colour, linestyle="--", linewidth=1.2)
            ax.annotate(
                f"{(step['ratio'] - 1) * 100:+.1f}% (p={step['p']:.2g})",
                (step["at"] - 0.5, max(ys) if ys else 0),
                xytext=(3, 0),
                textcoords="offset points",
                fontsize=8,
                color=colour,
                va="top",
            )
        every = max(1, len(xs) // MAX_TICKS)
        ax.set_xticks(xs[::every])
        ax.set_xticklabels(
            [p["label"] for p in data["points"]][::every], rotation=30, ha="right", fontsize=7
        )
        ax.set_ylabel(data["unit"])
        ax.set_ylim(0, (max(ys) if ys else 1) * 1.15)
        ax.set_xlabel(f"by {data['by']} version" if data["by"] else "by date")
        regression = newest_regression(history, threshold)
        title = data["title"] + ("  (REGRESSION)" if regression is not None else "")
        ax.set_title(title, fontsize=10)
    caption = (
        f"{len(ys)} results, median {short_number(sorted(ys)[len(ys) // 2])} {data['unit']}; "
        "horizontal lines: segment levels; dashed: significant steps"
        if ys
        else "no results"
    )
    return Chart(f"history-{index}", data["title"], fig, "history", caption)


def render_history(histories: Sequence[History], threshold: float) -> str:
    """The whole page as a string."""
    made = datetime.now(timezone.utc).isoformat(timespec="seconds")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        "<title>kerasbench history</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>kerasbench history</h1>",
        f"<p>{len(histories)} configurations; threshold {threshold * 100:g}%; "
        f"change points by PELT, each step tested by a permutation test "
        f"(kerasbench.history.changepoints). Made {esc(made)} by kerasbench "
        f"{esc(__version__)}.</p>",
    ]
    if not histories:
        parts.append("<p>No results to show a history of.</p>")
    for i, history in enumerate(histories):
        chart = timeline_chart(history, i, threshold)
        svg = to_svg(chart).replace("<svg ", f'<svg role="img" aria-label="{esc(chart.title)}" ', 1)
        parts.append(f'<h2 id="{esc(chart.name)}">{esc(chart.title)}</h2>')
        parts.append(
            f'<figure class="chart">\n{svg}\n<figcaption>{esc(chart.caption)}</figcaption></figure>'
        )
        lines = "\n".join(history_lines(history, threshold))
        parts.append(f"<pre>{esc(lines)}</pre>")
        chart.figure.clear()
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_history(path: Path, histories: Sequence[History], threshold: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_history(histories, threshold), encoding="utf-8")
    return path
