"""Verdicts of ``kerasbench compare``: two sets of results point by point, ratio, p, exit code.

Points are matched by ``Result.point_key`` (model, backend, mode, batch,
precision, ... : the same work). For each matched point:

- ratio = NEW throughput / BASE throughput = median(BASE step time) /
  median(NEW step time), over every window of every process of a side;
- its 95% CI and the p-value depend on how many processes (``--repeats``)
  measured each side:
  * both sides two or more: a two-level bootstrap (processes, then windows
    within them; ``stats.grouped_ratio_test``), so the spread between
    processes is in the CI and in p. This is the sound test for a gate:
    on a shared machine two processes of the same point differ by 5-10%
    while each one's windows agree to 1-2%.
  * otherwise: a bootstrap over windows and a two-sided Mann-Whitney U test
    on the window times. Between-process spread is unknown then, so p only
    says that these two processes differ; the line says so
    (``method`` "windows");
- verdict: "regression" if ratio < 1 - threshold and p < alpha;
  "improvement" if ratio > 1 + threshold and p < alpha; "no change" otherwise;
  "smoke" when a side has fewer windows than a 95% interval needs
  (``stats.MIN_CI_WINDOWS``, 6): the ratio is shown, no CI and no p, and it
  is never significant, so never a regression; "not comparable" when a side
  has no measurement, or window times that are not positive finite numbers
  (NaN, inf: never "no change").

Serving points (modes latency and server) are also gated on p99: their
windows are single requests' latencies, so the throughput ratio above is the
ratio of median latencies, and beside it the p99 ratio (NEW / BASE) gets a
95% percentile-bootstrap CI (each side's requests resampled on their own,
``serving.percentiles.percentile_ratio_ci``). A p99 ratio above
1 + threshold whose CI lies wholly above 1 is a regression (as is one below
1 - threshold wholly below 1 an improvement), whatever the median did.

Results from different hosts, devices or library versions are compared but
marked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from kerasbench.report.exports import CompareError, load_results
from kerasbench.report.labels import safe_text
from kerasbench.report.pool import STEAL_NOTE, step_times_s
from kerasbench.result import Result
from kerasbench.serving.percentiles import percentile_ratio_ci
from kerasbench.spec_serving import SERVING_MODES
from kerasbench.stats import (
    MIN_CI_WINDOWS,
    grouped_ratio_test,
    is_finite_positive,
    mann_whitney_u,
    median,
    throughput_ratio_ci,
)

__all__ = ["CompareError", "compare", "format_lines", "load_results", "parse_threshold", "to_json"]

REGRESSION, IMPROVEMENT, NO_CHANGE, SMOKE, NOT_COMPARABLE = (
    "regression",
    "improvement",
    "no change",
    "smoke",
    "not comparable",
)
VERDICTS = (REGRESSION, IMPROVEMENT, NO_CHANGE, SMOKE, NOT_COMPARABLE)
MIN_WINDOWS = MIN_CI_WINDOWS  # below this on a side: a smoke measurement, never significant
# How the CI and p were found: over processes (repeats on both sides) or over windows.
BY_PROCESSES, BY_WINDOWS = "processes", "windows"
# Fields that, when they differ, make a comparison mixed: (field, how to name it).
MARKED_FIELDS = (
    ("hostname", "host"),
    ("device_name", "device"),
    ("keras_version", "keras"),
    ("backend_version", "backend version"),
    ("python_version", "python"),
)


@dataclass(frozen=True)
class PointComparison:
    """The verdict for one configuration present on both sides."""

    point_key: str
    model: str
    backend: str
    mode: str
    batch_size: int
    verdict: str
    base_samples_per_sec: float | None = None
    new_samples_per_sec: float | None = None
    ratio: float | None = None
    ratio_ci: tuple[float, float] | None = None
    p_value: float | None = None
    reason: str | None = None  # why not comparable
    method: str | None = None  # BY_PROCESSES or BY_WINDOWS
    processes: tuple[int, int] = (0, 0)  # ok processes (repeats) on each side
    marks: tuple[str, ...] = ()  # e.g. "keras 3.15.1 -> 3.16.0"
    p99_ratio: float | None = None  # serving points: NEW p99 / BASE p99 (above 1: slower)
    p99_ratio_ci: tuple[float, float] | None = None


@dataclass
class Comparison:
    points: list[PointComparison]
    only_base: list[Result] = field(default_factory=list)
    only_new: list[Result] = field(default_factory=list)
    threshold: float = 0.05
    alpha: float = 0.05

    @property
    def regressions(self) -> list[PointComparison]:
        return [p for p in self.points if p.verdict == REGRESSION]

    @property
    def exit_code(self) -> int:
        """1 when any point regressed beyond the threshold with significance, else 0."""
        return 1 if self.regressions else 0


def _by_point(results: Sequence[Result]) -> dict[str, list[Result]]:
    """Results per point; where a point was measured in several runs, the last run's."""
    groups: dict[str, list[Result]] = {}
    for r in results:
        kept = groups.get(r.point_key, [])
        groups[r.point_key] = [*kept, r] if kept and kept[-1].run_id == r.run_id else [r]
    return groups


def _marks(base: Sequence[Result], new: Sequence[Result]) -> tuple[str, ...]:
    marks = []
    for name, title in MARKED_FIELDS:
        before = sorted({str(getattr(r, name)) for r in base if getattr(r, name) is not None})
        after = sorted({str(getattr(r, name)) for r in new if getattr(r, name) is not None})
        if before and after and before != after:
            marks.append(f"different {title}: {', '.join(before)} -> {', '.join(after)}")
    # A VM's neighbours: a side measured while the hypervisor took CPU time is suspect.
    steal = [
        max((r.cpu_steal_fraction for r in side if r.cpu_steal_fraction is not None), default=None)
        for side in (base, new)
    ]
    if any(s is not None and s >= STEAL_NOTE for s in steal):
        shown = ["?" if s is None else f"{s:.0%}" for s in steal]
        marks.append(f"cpu steal (other tenants of this VM's host): {shown[0]} -> {shown[1]}")
    return tuple(marks)


def compare_point(
    base: Sequence[Result], new: Sequence[Result], threshold: float, alpha: float
) -> PointComparison:
    """Verdict for one point measured by ``base`` and ``new`` (each one or more repeats)."""
    first = base[0]
    common = {
        "point_key": first.point_key,
        "model": first.model,
        "backend": first.backend,
        "mode": first.mode,
        "batch_size": first.batch_size,
        "marks": _marks(base, new),
    }
    base_g = [step_times_s(r) for r in base if r.status == "ok" and r.window_times_s]
    new_g = [step_times_s(r) for r in new if r.status == "ok" and r.window_times_s]
    base_t = [t for g in base_g for t in g]
    new_t = [t for g in new_g for t in g]
    common["processes"] = (len(base_g), len(new_g))
    for side, times, results in (("base", base_t, base), ("new", new_t, new)):
        if not times:
            statuses = ", ".join(sorted({r.status for r in results}))
            why = f"{side}: no timed windows ({statuses})"
            return PointComparison(verdict=NOT_COMPARABLE, reason=why, **common)
        if not is_finite_positive(times):  # NaN compares false both ways: never "no change"
            why = f"{side}: window times that are not positive finite numbers"
            return PointComparison(verdict=NOT_COMPARABLE, reason=why, **common)
    batch = first.batch_size
    for side, times in (("base", base_t), ("new", new_t)):
        if len(times) < MIN_WINDOWS:
            why = (
                f"{side}: {len(times)} timed windows, too few for a 95% interval "
                f"(needs {MIN_WINDOWS}); not tested"
            )
            return PointComparison(
                verdict=SMOKE,
                base_samples_per_sec=batch / median(base_t),
                new_samples_per_sec=batch / median(new_t),
                ratio=median(base_t) / median(new_t),
                reason=why,
                **common,
            )
    if len(base_g) >= 2 and len(new_g) >= 2:
        method = BY_PROCESSES
        ratio, low, high, p = grouped_ratio_test(base_g, new_g)
    else:
        method = BY_WINDOWS
        ratio, low, high = throughput_ratio_ci(base_t, new_t)
        _, p = mann_whitney_u(base_t, new_t)
    verdict = NO_CHANGE
    if p < alpha and ratio < 1 - threshold:
        verdict = REGRESSION
    elif p < alpha and ratio > 1 + threshold:
        verdict = IMPROVEMENT
    tail: dict = {}
    if first.mode in SERVING_MODES:
        verdict, tail = _p99_gate(verdict, base_t, new_t, threshold)
    return PointComparison(
        verdict=verdict,
        **tail,
        base_samples_per_sec=batch / median(base_t),
        new_samples_per_sec=batch / median(new_t),
        ratio=ratio,
        ratio_ci=(low, high),
        p_value=p,
        method=method,
        **common,
    )


def _p99_gate(
    verdict: str, base_t: Sequence[float], new_t: Sequence[float], threshold: float
) -> tuple[str, dict]:
    """The verdict once p99 is judged too, and the p99 ratio with its CI (serving points)."""
    ratio, low, high = percentile_ratio_ci(base_t, new_t, 0.99)
    if ratio > 1 + threshold and low > 1:
        verdict = REGRESSION
    elif verdict == NO_CHANGE and ratio < 1 - threshold and high < 1:
        verdict = IMPROVEMENT
    return verdict, {"p99_ratio": ratio, "p99_ratio_ci": (low, high)}


def compare(
    base: Sequence[Result], new: Sequence[Result], threshold: float = 0.05, alpha: float = 0.05
) -> Comparison:
    """Match ``base`` and ``new`` by configuration and judge every point."""
    base_points, new_points = _by_point(base), _by_point(new)
    points = [
        compare_point(base_points[key], new_points[key], threshold, alpha)
        for key in base_points
        if key in new_points
    ]
    return Comparison(
        points=points,
        only_base=[g[0] for k, g in base_points.items() if k not in new_points],
        only_new=[g[0] for k, g in new_points.items() if k not in base_points],
        threshold=threshold,
        alpha=alpha,
    )


def parse_threshold(text: str) -> float:
    """ "5%" or "0.05" -> 0.05."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise CompareError(f"threshold: expected e.g. 5% or 0.05, got {text!r}") from None
    if not 0 <= value < 1:
        raise CompareError(f"threshold: {text} is out of range [0%, 100%)")
    return value


def _point_line(p: PointComparison) -> str:
    """One point of the comparison as a line; strings from the records are shown, not run."""
    numbers = f"{'':>10} {'':>10} {'':>22} {'':>8}"
    if p.ratio is not None and p.ratio_ci is not None and p.p_value is not None:
        ci = f"{p.ratio:.3f} [{p.ratio_ci[0]:.3f}, {p.ratio_ci[1]:.3f}]"
        numbers = (
            f"{p.base_samples_per_sec:>10.1f} {p.new_samples_per_sec:>10.1f} {ci:>22}"
            f" {p.p_value:>8.2g}"
        )
    elif p.ratio is not None:  # a smoke point: its ratio, no interval, no test
        numbers = (
            f"{p.base_samples_per_sec:>10.1f} {p.new_samples_per_sec:>10.1f}"
            f" {f'{p.ratio:.3f} [no CI]':>22} {'-':>8}"
        )
    verdict = p.verdict + (f" ({p.reason})" if p.reason else "")
    procs = f"{p.processes[0]}:{p.processes[1]}"
    model, backend, mode = (safe_text(v) for v in (p.model, p.backend, p.mode))
    return (
        f"{model:<16} {backend:<11} {mode:<15} {p.batch_size:>5} {procs:>5} {numbers}"
        f"  {safe_text(verdict)}"
    )


def format_lines(comparison: Comparison) -> list[str]:
    """The comparison as plain text lines (for terminals and CI logs)."""
    lines = [
        f"{'model':<16} {'backend':<11} {'mode':<15} {'batch':>5} {'procs':>5} {'base/s':>10}"
        f" {'new/s':>10} {'ratio [95% CI]':>22} {'p':>8}  verdict"
    ]
    for p in comparison.points:
        lines.append(_point_line(p))
        if p.p99_ratio is not None and p.p99_ratio_ci is not None:
            low, high = p.p99_ratio_ci
            lines.append(f"    p99 new/base {p.p99_ratio:.3f} [{low:.3f}, {high:.3f}] (95% CI)")
        lines.extend(f"    ! {safe_text(mark)}" for mark in p.marks)
    for side, results in (("base", comparison.only_base), ("new", comparison.only_new)):
        for r in results:
            lines.append(
                safe_text(
                    f"only in {side}: {r.model} {r.backend} {r.mode} batch={r.batch_size} "
                    f"{r.precision} {r.data_format}"
                )
            )
    counts = {v: sum(p.verdict == v for p in comparison.points) for v in VERDICTS}
    lines.append(
        f"{len(comparison.points)} matched points: "
        + ", ".join(f"{n} {v}" for v, n in counts.items())
        + f" (threshold {comparison.threshold:.1%}, alpha {comparison.alpha:g})"
    )
    notes = (
        (
            sum(p.verdict == SMOKE for p in comparison.points),
            f"smoke point(s): fewer than {MIN_WINDOWS} timed windows on a side, so no 95% "
            "interval exists and no change can be called significant; measure more windows "
            "(--steps or --target-ci) to test them",
        ),
        (
            sum(p.method == BY_WINDOWS for p in comparison.points),
            "point(s) had one process on a side (procs): their CI and p see only the noise "
            "between windows, not the 5-10% by which two processes of one point can differ "
            "on a shared machine; for a gate, measure both sides with --repeats 3",
        ),
    )
    lines.extend(f"{count} {note}" for count, note in notes if count)
    return lines


def to_json(comparison: Comparison) -> str:
    """The comparison as JSON (points, one-sided points, summary)."""
    import dataclasses

    return (
        json.dumps(
            {
                "threshold": comparison.threshold,
                "alpha": comparison.alpha,
                "points": [dataclasses.asdict(p) for p in comparison.points],
                "only_base": [r.point_key for r in comparison.only_base],
                "only_new": [r.point_key for r in comparison.only_new],
                "regressions": len(comparison.regressions),
            },
            indent=2,
        )
        + "\n"
    )
