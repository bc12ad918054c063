"""Per-model speed charts: throughput by backend with its CI, and step time over the windows."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from kerasbench.report.charts.draw import (
    Chart,
    backend_colour,
    bars,
    figure,
    legend,
    not_shown,
    status_mark,
    tag,
    wrap,
)
from kerasbench.report.labels import slug
from kerasbench.report.view import ViewRow, shown_ci
from kerasbench.result import Result


def throughput_chart(model: str, rows: Sequence[ViewRow], backends: Sequence[str]) -> Chart:
    """Throughput of one model by backend, one panel per view row, with 95% CI bars."""
    fig, axes = figure(len(rows))
    for ax, row in zip(axes, rows, strict=True):
        bars(
            ax,
            [row],
            backends,
            lambda r: r.samples_per_sec,
            f"throughput ({row.unit})",
            error=shown_ci,  # none for a point with too few windows for a CI
        )
        ax.set_title(wrap(row.label, 40), fontsize=9)
    caption = (
        "Bars: median throughput over the timed windows; whiskers: 95% confidence interval "
        "of the median (none below 6 windows). A point that failed, was skipped or timed out "
        "is written where its bar would stand."
    )
    title = f"{model}: throughput by backend (median, 95% CI; ★ fastest)"
    return _finish(fig, backends, f"throughput-{slug(model)}", title, model, caption)


def _finish(
    fig: Figure, backends: Sequence[str], name: str, title: str, model: str, caption: str
) -> Chart:
    """Title and legend on a model's figure, as one named chart of its section."""
    fig.suptitle(title)
    legend(fig, backends)
    return Chart(name, title, fig, model, caption)


def step_times_ms(result: Result) -> list[float]:
    """Per-step time of each timed window, in milliseconds."""
    if not result.window_times_s or not result.window_steps:
        return []
    return [w / result.window_steps * 1e3 for w in result.window_times_s]


def _time_unit(rows: Sequence[ViewRow]) -> tuple[str, float]:
    """Milliseconds, or seconds when steps take several seconds: (unit, factor from ms)."""
    times = [t for row in rows for r in row.cells.values() for t in step_times_ms(r)]
    return ("s", 1e-3) if max(times, default=0.0) >= 5000 else ("ms", 1.0)


def _boxes(ax: object, row: ViewRow, present: list[str], factor: float) -> float:
    """One box of window times per backend of ``row``; returns the highest time drawn."""
    highest = 0.0
    for x, b in enumerate(present):
        r, colour = row.cells[b], backend_colour(b)
        times = [t * factor for t in step_times_ms(r)] if r.status == "ok" else []
        if not times:
            status_mark(ax, x, not_shown(r), colour)
            continue
        highest = max(highest, *times)
        box = ax.boxplot(  # type: ignore[attr-defined]
            [times],
            positions=[x],
            widths=0.5,
            patch_artist=True,
            showfliers=False,
            medianprops={"color": "black"},
        )
        for patch in box["boxes"]:
            patch.set(facecolor=colour, alpha=0.35, edgecolor=colour)
            tag(patch, b)
        # every window as a dot, spread sideways so that equal times stay visible
        spread = [x + 0.3 * ((k % 7) / 6 - 0.5) for k in range(len(times))]
        tag(ax.scatter(spread, times, s=10, color=colour, zorder=3), b)  # type: ignore[attr-defined]
        if b == row.fastest:
            ax.annotate(  # type: ignore[attr-defined]
                "★ fastest",
                xy=(x, max(times)),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                fontweight="bold",
            )
    return highest


def step_time_chart(model: str, rows: Sequence[ViewRow], backends: Sequence[str]) -> Chart:
    """Distribution of per-step times over the timed windows, per backend and view row."""
    time_unit, factor = _time_unit(rows)
    fig, axes = figure(len(rows))
    for ax, row in zip(axes, rows, strict=True):
        present = [b for b in backends if b in row.cells]
        highest = _boxes(ax, row, present, factor)
        ax.set_xticks(range(len(present)), present)
        ax.set_xlim(-0.6, len(present) - 0.4)
        ax.set_ylim(0, highest * 1.25 if highest > 0 else 1.0)
        ax.set_ylabel(f"time per step ({time_unit})")
        ax.set_title(wrap(row.label, 40), fontsize=9)
    caption = (
        "Each dot is one timed window (its duration divided by its steps); the box spans the "
        "quartiles and the line is the median. A tall box means an unsteady measurement."
    )
    title = f"{model}: step time over the timed windows (box: quartiles; dots: windows)"
    return _finish(fig, backends, f"step-time-{slug(model)}", title, model, caption)
