"""The scaling chart: throughput and scaling efficiency against the number of devices.

Its lines, speedups and efficiencies are those of ``report.scaling`` (the
scaling table); this module only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.lines import Line2D

from kerasbench.report.charts.draw import Chart, backend_colour, figure, not_shown, status_mark, tag
from kerasbench.report.labels import common_unit, slug
from kerasbench.report.view import shown_ci
from kerasbench.result import Result


@dataclass(frozen=True)
class ScalingPoint:
    devices: int
    result: Result
    throughput: float | None  # None when the point was not measured
    efficiency: float | None  # per-device throughput relative to the smallest measured count


def scaling_lines(results: Sequence[Result]) -> dict[tuple[str, str], list[ScalingPoint]]:
    """Throughput and efficiency against devices, per (backend, line), for the scaling chart.

    The lines, speedups and efficiencies are those of ``report.scaling`` (the
    scaling table): a line is one configuration at several device counts with
    the per-device or the global batch fixed; efficiency is per-device
    throughput over that of the line's fewest devices (1.0 = linear).
    """
    from kerasbench.report.scaling import scaling_table

    lines: dict[tuple[str, str], list[ScalingPoint]] = {}
    for row in scaling_table(results).rows:
        line = ", ".join(filter(None, [row.mode, row.batch, *row.config]))
        for backend, cell in row.cells.items():
            point = ScalingPoint(
                row.total_devices, cell.result, cell.samples_per_sec, cell.efficiency
            )
            lines.setdefault((backend, line), []).append(point)
    # A backend seen at one device count of a line says nothing about scaling.
    return {key: points for key, points in lines.items() if len(points) > 1}


def scaling_chart(model: str, results: Sequence[Result]) -> Chart | None:
    """Throughput and scaling efficiency against the device count; None with one count only."""
    lines = scaling_lines(results)
    if not lines:
        return None
    fig, (left, right) = figure(2)
    styles = ("-", "--", ":", "-.")
    configs = list(dict.fromkeys(config for _, config in lines))
    counts = sorted({p.devices for pts in lines.values() for p in pts})
    for (backend, config), points in lines.items():
        colour = backend_colour(backend)
        style = styles[configs.index(config) % len(styles)]
        for ax, attr in ((left, "throughput"), (right, "efficiency")):
            scale = 100 if attr == "efficiency" else 1
            shown = [p for p in points if getattr(p, attr) is not None]
            xs, ys = [p.devices for p in shown], [getattr(p, attr) * scale for p in shown]
            (line,) = ax.plot(xs, ys, style, marker="o", color=colour)
            tag(line, backend)
            for p in points:
                if getattr(p, attr) is None:
                    status_mark(ax, p.devices, not_shown(p.result), colour)
        for p in points:
            ci = shown_ci(p.result)
            if p.throughput is not None and ci is not None:
                low, high = ci
                left.errorbar(
                    [p.devices],
                    [p.throughput],
                    yerr=[[p.throughput - low], [high - p.throughput]],
                    color=colour,
                    capsize=3,
                )
    right.axhline(100, color="black", lw=0.8, ls="--")
    right.text(counts[-1], 100, "linear ", va="top", ha="right", fontsize=7)
    for ax in (left, right):
        ax.set_xticks(counts)
        ax.set_xlabel("devices")
        ax.set_ylim(bottom=0)
        ax.margins(x=0.15)
    left.set_ylabel(f"throughput ({common_unit(results) or 'per s'})")
    right.set_ylabel("scaling efficiency (%)")
    left.set_title("throughput")
    right.set_title("per-device throughput vs. fewest devices")
    title = f"{model}: scaling with the number of devices"
    fig.suptitle(title)
    handles = [
        Line2D([], [], color=backend_colour(b), marker="o", label=b)
        for b in dict.fromkeys(b for b, _ in lines)
    ]
    if len(configs) > 1:
        handles += [
            Line2D([], [], color="black", ls=styles[i % len(styles)], label=c)
            for i, c in enumerate(configs)
        ]
    fig.legend(
        handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False
    )
    caption = (
        "Each line keeps the batch per device fixed. Efficiency: throughput per device "
        "relative to the fewest devices measured on the same line (100% = linear scaling)."
    )
    return Chart(f"scaling-{slug(model)}", title, fig, model, caption)
