"""Plain-text lines of a history: per configuration its segments, steps and gate verdict.

Formatting only: every figure comes from a ``History``; nothing is measured here. The
lead's ``history`` command prints these lines; ``timeline`` gives the same content as
plain data for an HTML timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kerasbench.history.changepoints import ALPHA, History, newest_regression


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%"


def _span(first: str, last: str) -> str:
    return first if first == last else f"{first} .. {last}"


def history_lines(history: History, threshold: float, alpha: float = ALPHA) -> list[str]:
    """The lines of one configuration: header, segments interleaved with their steps, verdict."""
    series = history.series
    order = f"by {series.by}" if series.by else "by date"
    n = len(series.entries)
    head = f"{series.title}: {n} result{'s' if n != 1 else ''} {order}"
    head += f", run-to-run noise {history.sigma * 100:.1f}%"
    if series.dropped:
        what = f"no {series.by} version" if series.by else "no date"
        head += f" ({series.dropped} left out: {what})"
    lines = [head]
    for i, seg in enumerate(history.segments):
        if i:
            step = history.steps[i - 1]
            low, high = step.ci
            lines.append(
                f"    step at {step.label}: {_pct(step.change)} "
                f"(95% CI {_pct(low - 1)} .. {_pct(high - 1)}, p={step.p:.3g})"
            )
        lines.append(
            f"  {_span(seg.first, seg.last):<30} {seg.n_results:>3} results  "
            f"{seg.throughput:,.1f} {series.unit}"
        )
    if not history.steps:
        lines.append("  no significant change")
    regression = newest_regression(history, threshold, alpha)
    if regression is not None:
        lines.append(
            f"  REGRESSION: the newest segment is {-regression.change * 100:.1f}% slower than "
            f"the one before (threshold {threshold * 100:g}%, p={regression.p:.3g})"
        )
    return lines


def report_lines(histories: Sequence[History], threshold: float, alpha: float = ALPHA) -> list[str]:
    """All configurations' lines, a blank line between them; a note when there is nothing."""
    if not histories:
        return ["no results to show a history of"]
    lines: list[str] = []
    for history in histories:
        if lines:
            lines.append("")
        lines.extend(history_lines(history, threshold, alpha))
    return lines


def timeline(history: History) -> dict[str, Any]:
    """One configuration's points, segments and steps as plain data (for an HTML timeline)."""
    series = history.series
    return {
        "title": series.title,
        "key": series.key,
        "by": series.by,
        "unit": series.unit,
        "points": [
            {"label": e.label, "throughput": e.throughput, "run_id": e.result.run_id}
            for e in series.entries
        ],
        "segments": [
            {"start": s.start, "end": s.end, "throughput": s.throughput} for s in history.segments
        ],
        "steps": [
            {"at": s.at, "label": s.label, "ratio": s.ratio, "ci": list(s.ci), "p": s.p}
            for s in history.steps
        ],
    }
