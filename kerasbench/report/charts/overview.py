"""Charts over every model: time to first step and peak memory, per model and backend."""

from __future__ import annotations

import math
from collections.abc import Callable

from matplotlib.figure import Figure

from kerasbench.report.charts.draw import MAX_COLUMNS, Chart, bars, figure, legend
from kerasbench.report.view import View
from kerasbench.result import Result

MIB = 2**20


def _per_model_bars(
    view: View, value: Callable[[Result], float | None], ylabel: str, best: str | None
) -> Figure:
    fig, axes = figure(len(view.models))
    for ax, model in zip(axes, view.models, strict=True):
        bars(ax, view.rows_of(model), view.backends, value, ylabel, best=best)
        ax.set_title(model)
    return fig


def first_step_chart(view: View) -> Chart:
    """Time to first step (model build, compile and one step) per model and backend."""
    fig = _per_model_bars(
        view, lambda r: r.time_to_first_step_s, "time to first step (s)", best="min"
    )
    title = "Time to first step: building the model, compiling and one step (★ quickest)"
    fig.suptitle(title)
    legend(fig, view.backends)
    caption = (
        "From the start of the model's process to the end of its first training or "
        "prediction step: imports, model build, tracing or compilation and one step. "
        "It is never inside the timed windows."
    )
    return Chart("time-to-first-step", title, fig, "overview", caption)


def _mib(value: int | None) -> float | None:
    return None if value is None else value / MIB


def memory_chart(view: View) -> Chart:
    """Peak host memory (RSS) and, where measured, peak device memory per model and backend."""
    models = view.models
    kinds: list[tuple[str, Callable[[Result], float | None]]] = [
        ("host", lambda r: _mib(r.peak_host_memory_bytes))
    ]
    if any(r.peak_device_memory_bytes is not None for r in view.results):
        kinds.append(("device", lambda r: _mib(r.peak_device_memory_bytes)))
    cols = min(len(models), MAX_COLUMNS)
    rows_per_kind = math.ceil(len(models) / cols)
    fig, axes = figure(cols * rows_per_kind * len(kinds), cols=cols)
    for k, (kind, value) in enumerate(kinds):
        for m, model in enumerate(models):
            ax = axes[k * cols * rows_per_kind + m]
            ylabel = f"peak {kind} memory (MiB)"
            bars(ax, view.rows_of(model), view.backends, value, ylabel, best=None)
            ax.set_title(f"{model}: {kind}")
        for ax in axes[k * cols * rows_per_kind + len(models) : (k + 1) * cols * rows_per_kind]:
            ax.set_visible(False)
    title = "Peak memory: host (resident set) " + (
        "and device" if len(kinds) > 1 else "(no device memory was measured)"
    )
    fig.suptitle(title)
    legend(fig, view.backends)
    caption = (
        "Host: the peak resident set size of the worker process. Device: the peak the "
        "backend's allocator reported, where it reports one."
    )
    return Chart("peak-memory", title, fig, "overview", caption)
