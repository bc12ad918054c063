"""The comparison chart: each point's throughput change against a baseline, verdict coloured."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from kerasbench.report.baseline import rule
from kerasbench.report.charts.draw import STATUS_GREY, Chart
from kerasbench.report.labels import safe_text, slug
from kerasbench.report.view import build_view

_VERDICT_COLOURS = {
    "regression": "#c62828",
    "improvement": "#2e7d32",
    "unchanged": "#9e9e9e",
    "broken": "#c62828",
    "fixed": "#2e7d32",
}


def comparison_chart(changes: Sequence[Any], base: str, threshold: float) -> Chart | None:
    """Throughput change of each point against the baseline, regressions in red."""
    if not changes:
        return None
    # the report view's words for each point (what tells a model's points apart)
    view = build_view([c.current for c in changes])
    words = {id(r): row.label for row in view.rows for r in row.cells.values()}
    labels = []
    for c in changes:
        r = c.current
        labels.append(safe_text(f"{r.model}, {r.backend}, {words.get(id(r), r.mode)}"))
    height = max(2.5, 0.28 * len(changes) + 1.4)
    fig = Figure(figsize=(9.0, height), layout="constrained")
    ax = fig.subplots()
    ys = list(range(len(changes)))[::-1]
    ax.axvspan(-threshold * 100, threshold * 100, color="#eeeeee", zorder=0)
    ax.axvline(0, color="black", lw=0.8)
    for y, change in zip(ys, changes, strict=True):
        if change.percent is None:  # a point measured on one side only
            colour = _VERDICT_COLOURS.get(change.verdict, STATUS_GREY)
            ax.text(
                0, y, f" {change.verdict}", va="center", fontsize=8, style="italic", color=colour
            )
            ax.plot([0], [y], marker="x", color=colour)
            continue
        colour = _VERDICT_COLOURS.get(change.verdict, STATUS_GREY)
        ax.barh(y, change.percent, color=colour, height=0.6)
        ax.text(
            change.percent,
            y,
            f" {change.percent:+.1f}% ",
            va="center",
            ha="left" if change.percent >= 0 else "right",
            fontsize=7,
        )
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_xlabel(f"throughput change against {base} (%)")
    ax.grid(axis="x", alpha=0.3)
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.25)
    title = (
        f"Throughput against {base} "
        f"(red: regression, green: improvement, grey band: ±{threshold:.0%})"
    )
    fig.suptitle(title)
    caption = f"Change of median throughput against {base}, point by point. {rule(threshold)}"
    return Chart(f"comparison-vs-{slug(base)}", title, fig, "comparison", caption)
