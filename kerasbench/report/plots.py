"""Charts of stored results, drawn with matplotlib without a display: one named figure each.

Each chart function takes results and returns a ``Chart``; the HTML report
inlines charts as SVG and ``kerasbench report --format png --out DIR`` writes
them as ``DIR/<chart.name>.png``. Rules every chart keeps:

- every value axis says its unit;
- a backend has the same colour in every chart (``backend_colour``);
- the fastest backend of a group is marked with a star and a black edge;
- a failed, skipped or timed-out point is written as its status where its bar
  would be, never drawn as a zero.

Strings from results (model names, labels) are drawn as text, never parsed:
mathtext is off, so a ``$`` in a label is a dollar sign.
"""

from __future__ import annotations

import io
import math
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from kerasbench.backends import BACKENDS
from kerasbench.report.delta import rule
from kerasbench.report.grid import ROW_FIELDS
from kerasbench.report.labels import common_unit, slug, total_devices
from kerasbench.report.pool import pool_repeats
from kerasbench.result import Result

PNG_DPI = 110
PANEL_SIZE = (3.8, 3.0)  # inches per subplot
MIN_WIDTH = 7.0  # inches
MAX_COLUMNS = 3
MIB = 2**20

# Fixed colours for the backends kerasbench knows (including the legacy rows),
# so that a backend looks the same in every report, not just within one.
_COLOURS = {
    "jax": "#1f77b4",
    "tensorflow": "#ff7f0e",
    "torch": "#d62728",
    "openvino": "#9467bd",
    "mxnet": "#2ca02c",
    "tf-keras": "#8c564b",
    "tf_keras": "#8c564b",
    "keras2": "#8c564b",
}
_SPARE_COLOURS = ("#17becf", "#bcbd22", "#e377c2", "#7f7f7f", "#393b79", "#637939")
_STATUS_GREY = "#555555"

_STYLE = {
    "text.parse_math": False,  # a "$" in a model name or label is text, not TeX
    "svg.fonttype": "path",  # SVG shows the same glyphs everywhere, needs no fonts
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.alpha": 0.3,
}

CONFIG_FIELDS = tuple(f for f in ROW_FIELDS if f != "model")


@dataclass
class Chart:
    """One figure of a report, named by what it shows (the PNG file stem)."""

    name: str
    title: str
    figure: Figure
    section: str  # where the HTML report puts it: a model name, or "overview"
    caption: str = ""  # how to read it, for the HTML report


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(_STYLE):
        yield


def backend_colour(backend: str) -> str:
    """The colour of a backend in every chart; an unknown one gets a stable spare colour."""
    if backend in _COLOURS:
        return _COLOURS[backend]
    return _SPARE_COLOURS[zlib.crc32(backend.encode("utf-8")) % len(_SPARE_COLOURS)]


def backend_order(results: Sequence[Result]) -> list[str]:
    """Backends present, registry order first, then the others by name."""
    present = {r.backend for r in results}
    return [b for b in BACKENDS if b in present] + sorted(present - set(BACKENDS))


def short_number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


# --- grouping ---------------------------------------------------------------


def varying_fields(results: Sequence[Result], fields: Sequence[str] = CONFIG_FIELDS) -> list[str]:
    """The configuration fields that differ among ``results`` (mode always kept)."""
    varying = [f for f in fields if f == "mode" or len({str(getattr(r, f)) for r in results}) > 1]
    if "devices" in fields and "devices" not in varying:
        if len({total_devices(r) for r in results}) > 1:  # same per host, more hosts
            varying.append("devices")
    return varying


def config_label(result: Result, fields: Sequence[str]) -> str:
    """A configuration in a few words: "fit, batch 32, NHWC"."""
    words = []
    for f in fields:
        value = getattr(result, f)
        if f == "batch_size":
            words.append(f"batch {value}")
        elif f == "devices":
            words.append(f"{total_devices(result)} dev")
        elif f == "data_format":
            words.append({"channels_last": "NHWC", "channels_first": "NCHW"}.get(value, value))
        elif f == "jit_compile":
            words.append(f"jit {value}")
        elif f == "image_size":
            words.append(f"{value}px")
        elif f == "label":
            words.append(f"label {value}" if value else "no label")
        else:
            words.append(str(value))
    return ", ".join(words)


Groups = list[tuple[str, dict[str, Result]]]


def group_by_config(results: Sequence[Result], fields: Sequence[str] | None = None) -> Groups:
    """Results as (configuration label, {backend: result}) in order of first appearance."""
    if fields is None:
        fields = varying_fields(results)
    groups: dict[str, dict[str, Result]] = {}
    for r in results:
        groups.setdefault(config_label(r, fields), {})[r.backend] = r  # newest wins
    return list(groups.items())


def models_of(results: Sequence[Result]) -> list[str]:
    return list(dict.fromkeys(r.model for r in results))


def _measured(r: Result, value: Callable[[Result], float | None]) -> float | None:
    return value(r) if r.status == "ok" else None


# --- drawing helpers ----------------------------------------------------------


def _figure(panels: int, cols: int | None = None) -> tuple[Figure, list[Any]]:
    cols = cols or min(panels, MAX_COLUMNS)
    rows = math.ceil(panels / cols)
    # A single panel gets room for the figure's title.
    width = max(PANEL_SIZE[0] * cols, MIN_WIDTH)
    fig = Figure(figsize=(width, PANEL_SIZE[1] * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[panels:]:
        ax.set_visible(False)
    return fig, axes[:panels]


def _legend(fig: Figure, backends: Sequence[str], extra: Sequence[Any] = ()) -> None:
    handles = [Patch(color=backend_colour(b), label=b) for b in backends]
    handles.extend(extra)
    fig.legend(
        handles=handles,
        labels=[h.get_label() for h in handles],
        loc="outside lower center",
        ncols=min(len(handles), 6),
        frameon=False,
    )


def _status_mark(ax: Any, x: float, text: str, colour: str) -> None:
    """Write a point's status where its bar would stand, so that it never reads as zero."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    ax.plot([x], [0.0], marker="x", color=colour, transform=trans, clip_on=False, ms=6, mew=1.5)
    ax.text(
        x,
        0.05,
        text,
        transform=trans,
        rotation=90,
        ha="center",
        va="bottom",
        color=_STATUS_GREY,
        fontsize=8,
        style="italic",
    )


def _tag(artist: Any, backend: str) -> None:
    """Name the backend an artist draws (a "_" label stays out of legends), for tests."""
    artist.set_label(f"_backend:{backend}")


def _not_shown(r: Result) -> str:
    return r.status if r.status != "ok" else "not measured"


def _wrap(text: str, width: int = 22) -> str:
    words, lines, line = text.split(", "), [], ""
    for w in words:
        candidate = f"{line}, {w}" if line else w
        if line and len(candidate) > width:
            lines.append(line + ",")
            line = w
        else:
            line = candidate
    lines.append(line)
    return "\n".join(lines)


def _bars(
    ax: Any,
    groups: Groups,
    backends: Sequence[str],
    value: Callable[[Result], float | None],
    ylabel: str,
    error: Callable[[Result], tuple[float, float] | None] | None = None,
    best: str | None = "max",
) -> None:
    """Grouped bars: one group per configuration, one bar per backend present."""
    backends = [b for b in backends if any(b in by_backend for _, by_backend in groups)]
    width = 0.8 / max(1, len(backends))
    many = len(groups) * len(backends) > 4
    ticks: list[tuple[float, str]] = []
    top = 0.0
    for i, (label, by_backend) in enumerate(groups):
        measured = {b: v for b, r in by_backend.items() if (v := _measured(r, value)) is not None}
        winner = None
        if best and len(measured) > 1:
            pick = max if best == "max" else min
            winner = pick(measured, key=measured.__getitem__)
        for j, b in enumerate(backends):
            r = by_backend.get(b)
            if r is None:
                continue
            x = i - 0.4 + width * (j + 0.5)
            if len(groups) == 1:
                ticks.append((x, b))
            colour = backend_colour(b)
            v = measured.get(b)
            if v is None:
                _status_mark(ax, x, _not_shown(r), colour)
                continue
            yerr = None
            bounds = error(r) if error else None
            if bounds:
                low, high = bounds
                yerr = [[max(0.0, v - low)], [max(0.0, high - v)]]
                top = max(top, high)
            top = max(top, v)
            (bar,) = ax.bar(
                x,
                v,
                width * 0.9,
                color=colour,
                yerr=yerr,
                capsize=3,
                ecolor="#222222",
                edgecolor="black" if b == winner else colour,
                linewidth=1.6 if b == winner else 0.0,
            )
            _tag(bar, b)
            ax.annotate(
                ("★ " if b == winner else "") + short_number(v),
                xy=(x, high if bounds else v),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                rotation=90 if many else 0,
                fontsize=7,
                fontweight="bold" if b == winner else "normal",
            )
        if len(groups) > 1:
            ticks.append((i, _wrap(label)))
    ax.set_xticks([t[0] for t in ticks], [t[1] for t in ticks], fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, top * (1.45 if many else 1.2) if top > 0 else 1.0)
    ax.set_xlim(-0.6, len(groups) - 0.4)


# --- the charts -------------------------------------------------------------------


def throughput_chart(model: str, results: Sequence[Result]) -> Chart:
    """Throughput of one model by backend, one panel per configuration, with 95% CI bars."""
    backends = backend_order(results)
    groups = group_by_config(results)
    fig, axes = _figure(len(groups))
    for ax, group in zip(axes, groups, strict=True):
        _bars(
            ax,
            [group],
            backends,
            lambda r: r.samples_per_sec,
            f"throughput ({common_unit(list(group[1].values())) or 'per s'})",
            error=lambda r: r.samples_per_sec_ci,
        )
        ax.set_title(_wrap(group[0], 40), fontsize=9)
    title = f"{model}: throughput by backend (median, 95% CI; ★ fastest)"
    fig.suptitle(title)
    _legend(fig, backends)
    caption = (
        "Bars: median throughput over the timed windows; whiskers: 95% bootstrap confidence "
        "interval of the median. A point that failed, was skipped or timed out is written "
        "where its bar would stand."
    )
    return Chart(f"throughput-{slug(model)}", title, fig, model, caption)


def _time_unit(results: Sequence[Result]) -> tuple[str, float]:
    """Milliseconds, or seconds when steps take several seconds: (unit, factor from ms)."""
    longest = max((t for r in results for t in step_times_ms(r)), default=0.0)
    return ("s", 1e-3) if longest >= 5000 else ("ms", 1.0)


def step_times_ms(result: Result) -> list[float]:
    """Per-step time of each timed window, in milliseconds."""
    if not result.window_times_s or not result.window_steps:
        return []
    return [w / result.window_steps * 1e3 for w in result.window_times_s]


def step_time_chart(model: str, results: Sequence[Result]) -> Chart:
    """Distribution of per-step times over the timed windows, per backend and configuration."""
    backends = backend_order(results)
    groups = group_by_config(results)
    time_unit, factor = _time_unit(results)
    fig, axes = _figure(len(groups))
    for ax, (label, by_backend) in zip(axes, groups, strict=True):
        present = [b for b in backends if b in by_backend]
        medians = {
            b: sorted(t)[len(t) // 2]
            for b in present
            if by_backend[b].status == "ok" and (t := step_times_ms(by_backend[b]))
        }
        winner = min(medians, key=medians.__getitem__) if len(medians) > 1 else None
        highest = 0.0
        for x, b in enumerate(present):
            r, colour = by_backend[b], backend_colour(b)
            times = [t * factor for t in step_times_ms(r)] if r.status == "ok" else []
            if not times:
                _status_mark(ax, x, _not_shown(r), colour)
                continue
            highest = max(highest, *times)
            box = ax.boxplot(
                [times],
                positions=[x],
                widths=0.5,
                patch_artist=True,
                showfliers=False,
                medianprops={"color": "black"},
            )
            for patch in box["boxes"]:
                patch.set(facecolor=colour, alpha=0.35, edgecolor=colour)
                _tag(patch, b)
            # every window as a dot, spread sideways so that equal times stay visible
            spread = [x + 0.3 * ((k % 7) / 6 - 0.5) for k in range(len(times))]
            _tag(ax.scatter(spread, times, s=10, color=colour, zorder=3), b)
            if b == winner:
                ax.annotate(
                    "★ fastest",
                    xy=(x, max(times)),
                    xytext=(0, 4),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                    fontweight="bold",
                )
        ax.set_xticks(range(len(present)), present)
        ax.set_xlim(-0.6, len(present) - 0.4)
        ax.set_ylim(0, highest * 1.25 if highest > 0 else 1.0)
        ax.set_ylabel(f"time per step ({time_unit})")
        ax.set_title(_wrap(label, 40), fontsize=9)
    title = f"{model}: step time over the timed windows (box: quartiles; dots: windows)"
    fig.suptitle(title)
    _legend(fig, backends)
    caption = (
        "Each dot is one timed window (its duration divided by its steps); the box spans the "
        "quartiles and the line is the median. A tall box means an unsteady measurement."
    )
    return Chart(f"step-time-{slug(model)}", title, fig, model, caption)


def _per_model_bars(
    results: Sequence[Result],
    value: Callable[[Result], float | None],
    ylabel: str,
    best: str | None,
) -> tuple[Figure, list[str]]:
    backends = backend_order(results)
    models = models_of(results)
    fig, axes = _figure(len(models))
    for ax, model in zip(axes, models, strict=True):
        mine = [r for r in results if r.model == model]
        _bars(ax, group_by_config(mine), backends, value, ylabel, best=best)
        ax.set_title(model)
    return fig, backends


def first_step_chart(results: Sequence[Result]) -> Chart:
    """Time to first step (model build, compile and one step) per model and backend."""
    fig, backends = _per_model_bars(
        results, lambda r: r.time_to_first_step_s, "time to first step (s)", best="min"
    )
    title = "Time to first step: building the model, compiling and one step (★ quickest)"
    fig.suptitle(title)
    _legend(fig, backends)
    caption = (
        "From the start of the model's process to the end of its first training or "
        "prediction step: imports, model build, tracing or compilation and one step. "
        "It is never inside the timed windows."
    )
    return Chart("time-to-first-step", title, fig, "overview", caption)


def _mib(value: int | None) -> float | None:
    return None if value is None else value / MIB


def memory_chart(results: Sequence[Result]) -> Chart:
    """Peak host memory (RSS) and, where measured, peak device memory per model and backend."""
    backends = backend_order(results)
    models = models_of(results)
    kinds = [("host", lambda r: _mib(r.peak_host_memory_bytes))]
    if any(r.peak_device_memory_bytes is not None for r in results):
        kinds.append(("device", lambda r: _mib(r.peak_device_memory_bytes)))
    cols = min(len(models), MAX_COLUMNS)
    rows_per_kind = math.ceil(len(models) / cols)
    fig, axes = _figure(cols * rows_per_kind * len(kinds), cols=cols)
    for k, (kind, value) in enumerate(kinds):
        for m, model in enumerate(models):
            ax = axes[k * cols * rows_per_kind + m]
            mine = [r for r in results if r.model == model]
            groups = group_by_config(mine)
            _bars(ax, groups, backends, value, f"peak {kind} memory (MiB)", best=None)
            ax.set_title(f"{model}: {kind}")
        for ax in axes[k * cols * rows_per_kind + len(models) : (k + 1) * cols * rows_per_kind]:
            ax.set_visible(False)
    title = "Peak memory: host (resident set) " + (
        "and device" if len(kinds) > 1 else "(no device memory was measured)"
    )
    fig.suptitle(title)
    _legend(fig, backends)
    caption = (
        "Host: the peak resident set size of the worker process. Device: the peak the "
        "backend's allocator reported, where it reports one."
    )
    return Chart("peak-memory", title, fig, "overview", caption)


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
    fig, (left, right) = _figure(2)
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
            _tag(line, backend)
            for p in points:
                if getattr(p, attr) is None:
                    _status_mark(ax, p.devices, _not_shown(p.result), colour)
        for p in points:
            if p.throughput is not None and p.result.samples_per_sec_ci:
                low, high = p.result.samples_per_sec_ci
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
    # what tells a model's points apart, per model (an MLP has no image size)
    fields = {
        m: varying_fields([c.current for c in changes if c.current.model == m])
        for m in {c.current.model for c in changes}
    }
    labels = []
    for c in changes:
        r = c.current
        labels.append(f"{r.model}, {r.backend}, {config_label(r, fields[r.model])}")
    height = max(2.5, 0.28 * len(changes) + 1.4)
    fig = Figure(figsize=(9.0, height), layout="constrained")
    ax = fig.subplots()
    ys = list(range(len(changes)))[::-1]
    ax.axvspan(-threshold * 100, threshold * 100, color="#eeeeee", zorder=0)
    ax.axvline(0, color="black", lw=0.8)
    for y, change in zip(ys, changes, strict=True):
        if change.percent is None:  # a point measured on one side only
            colour = _VERDICT_COLOURS.get(change.verdict, _STATUS_GREY)
            ax.text(
                0, y, f" {change.verdict}", va="center", fontsize=8, style="italic", color=colour
            )
            ax.plot([0], [y], marker="x", color=colour)
            continue
        colour = _VERDICT_COLOURS.get(change.verdict, _STATUS_GREY)
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


# --- all charts of a report, and their files --------------------------------------


def build_charts(
    results: Sequence[Result],
    changes: Sequence[Any] | None = None,
    base: str | None = None,
    threshold: float = 0.05,
) -> list[Chart]:
    """Every chart of a report, in reading order; each name is unique.

    The repeats of a point (``run --repeats``) are pooled into one first.
    """
    results = pool_repeats(results)
    charts: list[Chart] = []
    with _style():
        for model in models_of(results):
            mine = [r for r in results if r.model == model]
            charts.append(throughput_chart(model, mine))
            charts.append(step_time_chart(model, mine))
            scaling = scaling_chart(model, mine)
            if scaling is not None:
                charts.append(scaling)
        if results:
            charts.append(first_step_chart(results))
            charts.append(memory_chart(results))
        if changes and base is not None:
            comparison = comparison_chart(changes, base, threshold)
            if comparison is not None:
                charts.append(comparison)
    seen: dict[str, int] = {}
    for chart in charts:  # two models whose slugs collide get -2, -3, ...
        count = seen.get(chart.name, 0) + 1
        seen[chart.name] = count
        if count > 1:
            chart.name = f"{chart.name}-{count}"
    return charts


def to_svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element, ready to inline in HTML (no XML prologue)."""
    buf = io.StringIO()
    # A fixed salt per chart keeps the ids in the SVG stable across runs and
    # distinct between the charts of one page.
    with _style(), matplotlib.rc_context({"svg.hashsalt": chart.name}):
        chart.figure.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # The Dublin Core block says only "made by matplotlib"; a page of charts needs it once, at most.
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)


def png_size(chart: Chart, dpi: int = PNG_DPI) -> tuple[int, int]:
    """Width and height in pixels of the chart's PNG file."""
    width, height = chart.figure.get_size_inches()
    return round(width * dpi), round(height * dpi)


def write_pngs(charts: Sequence[Chart], directory: Path, dpi: int = PNG_DPI) -> list[Path]:
    """Write each chart as ``directory/<name>.png``; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for chart in charts:
        path = directory / f"{chart.name}.png"
        with _style():
            chart.figure.savefig(path, format="png", dpi=dpi, metadata={"Software": None})
        paths.append(path)
    return paths
