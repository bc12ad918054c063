"""The Keras-overhead chart: Keras' throughput over the native framework's, with its 95% CI.

The pairs and ratios are ``report.overhead``'s (the overhead table); this
module only draws them: one horizontal bar per pair, a line at 1 (no
overhead), bars left of it where Keras is slower.
"""

from __future__ import annotations

from collections.abc import Sequence

from kerasbench.report.charts.draw import Chart, backend_colour, figure, legend, wrap
from kerasbench.report.overhead import OverheadRow


def overhead_chart(rows: Sequence[OverheadRow]) -> Chart | None:
    """One bar per Keras/native pair with a ratio; None when no pair was measured on both sides."""
    shown = [r for r in rows if r.ratio is not None]
    if not shown:
        return None
    fig, (ax,) = figure(1)
    fig.set_figheight(max(2.5, 0.35 * len(shown) + 1.5))
    ys = list(range(len(shown)))[::-1]
    for y, row in zip(ys, shown, strict=True):
        colour = backend_colour(row.native_backend)
        ax.barh([y], [row.ratio], color=colour, height=0.7)
        if row.ci is not None:
            low, high = row.ci
            ax.errorbar(
                [row.ratio],
                [y],
                xerr=[[row.ratio - low], [high - row.ratio]],
                color="black",
                capsize=3,
                lw=1,
            )
    labels = [
        wrap(
            f"{r.model}, {r.mode}, {r.framework} jit {r.keras_jit} / compile {r.native_compile}", 40
        )
        for r in shown
    ]
    ax.set_yticks(ys, labels, fontsize=7)
    ax.axvline(1.0, color="black", lw=0.8, ls="--")
    ax.set_xlabel("Keras throughput / native throughput (1 = no overhead)")
    ax.grid(axis="x", alpha=0.3)
    title = "Keras overhead over the framework used directly"
    fig.suptitle(title)
    legend(fig, list(dict.fromkeys(r.native_backend for r in shown)))
    caption = (
        "Each bar: Keras on a framework against the same model, mode, batch and data written "
        "in that framework directly (torch-native, jax-native). Left of the dashed line Keras "
        "is slower. Whiskers: 95% CI resampling both sides' timed windows."
    )
    return Chart("keras-overhead", title, fig, "overhead", caption)
