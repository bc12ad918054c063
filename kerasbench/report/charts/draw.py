"""Drawing helpers every chart shares: figures, colours, grouped bars, status marks, files.

Rules every chart keeps:

- every value axis says its unit;
- a backend has the same colour in every chart (``backend_colour``);
- the fastest backend of a group is marked with a star and a black edge;
- a failed, skipped or timed-out point is written as its status where its bar
  would be, never drawn as a zero.

Strings from results (model names, labels) are drawn as text, never parsed:
mathtext is off, so a ``$`` in a label is a dollar sign. What the rows are and
how they are labelled is decided by ``report.view``; charts only draw it.
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
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from kerasbench.report.view import ViewRow
from kerasbench.result import Result

PNG_DPI = 110
PANEL_SIZE = (3.8, 3.0)  # inches per subplot
MIN_WIDTH = 7.0  # inches
MAX_COLUMNS = 3

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
    # the native baselines: a lighter shade of the Keras backend they sit under
    "jax-native": "#aec7e8",
    "torch-native": "#ff9896",
}
_SPARE_COLOURS = ("#17becf", "#bcbd22", "#e377c2", "#7f7f7f", "#393b79", "#637939")
STATUS_GREY = "#555555"

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


@dataclass
class Chart:
    """One figure of a report, named by what it shows (the PNG file stem)."""

    name: str
    title: str
    figure: Figure
    section: str  # where the HTML report puts it: a model name, or "overview"
    caption: str = ""  # how to read it, for the HTML report


@contextmanager
def style() -> Iterator[None]:
    """Matplotlib settings every chart is drawn and saved with."""
    with matplotlib.rc_context(_STYLE):
        yield


def backend_colour(backend: str) -> str:
    """The colour of a backend in every chart; an unknown one gets a stable spare colour."""
    if backend in _COLOURS:
        return _COLOURS[backend]
    return _SPARE_COLOURS[zlib.crc32(backend.encode("utf-8")) % len(_SPARE_COLOURS)]


def short_number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def measured_value(r: Result, value: Callable[[Result], float | None]) -> float | None:
    """``value`` of ``r`` when it was measured (status ok), else None."""
    return value(r) if r.status == "ok" else None


def figure(panels: int, cols: int | None = None) -> tuple[Figure, list[Any]]:
    cols = cols or min(panels, MAX_COLUMNS)
    rows = math.ceil(panels / cols)
    # A single panel gets room for the figure's title.
    width = max(PANEL_SIZE[0] * cols, MIN_WIDTH)
    fig = Figure(figsize=(width, PANEL_SIZE[1] * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[panels:]:
        ax.set_visible(False)
    return fig, axes[:panels]


def legend(fig: Figure, backends: Sequence[str], extra: Sequence[Any] = ()) -> None:
    handles = [Patch(color=backend_colour(b), label=b) for b in backends]
    handles.extend(extra)
    fig.legend(
        handles=handles,
        labels=[h.get_label() for h in handles],
        loc="outside lower center",
        ncols=min(len(handles), 6),
        frameon=False,
    )


def status_mark(ax: Any, x: float, text: str, colour: str) -> None:
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
        color=STATUS_GREY,
        fontsize=8,
        style="italic",
    )


def tag(artist: Any, backend: str) -> None:
    """Name the backend an artist draws (a "_" label stays out of legends), for tests."""
    artist.set_label(f"_backend:{backend}")


def not_shown(r: Result) -> str:
    return r.status if r.status != "ok" else "not measured"


def wrap(text: str, width: int = 22) -> str:
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


def _winner(row: ViewRow, values: dict[str, float], best: str | None) -> str | None:
    """The starred backend of a group: the view's fastest, the smallest value, or none."""
    if best == "view":
        return row.fastest
    if best == "min" and len(values) > 1:
        return min(values, key=values.__getitem__)
    return None


def bars(
    ax: Any,
    groups: Sequence[ViewRow],
    backends: Sequence[str],
    value: Callable[[Result], float | None],
    ylabel: str,
    error: Callable[[Result], tuple[float, float] | None] | None = None,
    best: str | None = "view",
) -> None:
    """Grouped bars: one group per view row, one bar per backend present.

    ``best``: "view" stars the row's fastest backend (``report.view``), "min"
    the smallest value (time, memory), None nothing.
    """
    backends = [b for b in backends if any(b in row.cells for row in groups)]
    width = 0.8 / max(1, len(backends))
    many = len(groups) * len(backends) > 4
    ticks: list[tuple[float, str]] = []
    top = 0.0
    for i, row in enumerate(groups):
        by_backend = row.cells
        values = {
            b: v for b, r in by_backend.items() if (v := measured_value(r, value)) is not None
        }
        winner = _winner(row, values, best)
        for j, b in enumerate(backends):
            r = by_backend.get(b)
            if r is None:
                continue
            x = i - 0.4 + width * (j + 0.5)
            if len(groups) == 1:
                ticks.append((x, b))
            colour = backend_colour(b)
            v = values.get(b)
            if v is None:
                status_mark(ax, x, not_shown(r), colour)
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
            tag(bar, b)
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
            ticks.append((i, wrap(row.label)))
    ax.set_xticks([t[0] for t in ticks], [t[1] for t in ticks], fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, top * (1.45 if many else 1.2) if top > 0 else 1.0)
    ax.set_xlim(-0.6, len(groups) - 0.4)


def to_svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element, ready to inline in HTML (no XML prologue)."""
    buf = io.StringIO()
    # A fixed salt per chart keeps the ids in the SVG stable across runs and
    # distinct between the charts of one page.
    with style(), matplotlib.rc_context({"svg.hashsalt": chart.name}):
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
        with style():
            chart.figure.savefig(path, format="png", dpi=dpi, metadata={"Software": None})
        paths.append(path)
    return paths
