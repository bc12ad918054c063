"""Results against a baseline, point by point, as the HTML and PNG reports show them.

The statistics are those of ``report.verdicts`` (the ``kerasbench compare``
command): a throughput ratio with its bootstrap CI and a p-value (over
processes when both sides ran ``--repeats`` 2 or more, else a Mann-Whitney U
test over windows); a change counts when it is beyond the threshold and
significant, and a point with fewer than 6 windows on a side is a "smoke"
measurement, never significant. This module only turns its verdicts into one ``Change`` per
current point, and names what ``compare`` leaves "not comparable": a point
that broke (measured before, not now), was fixed, still fails, or is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kerasbench.report import verdicts
from kerasbench.report.pool import pool_repeats
from kerasbench.result import Result

THRESHOLD = 0.05  # relative change below which a difference is not reported
ALPHA = 0.05  # significance level of compare's test

VERDICTS = (
    "regression",
    "improvement",
    "unchanged",
    "smoke",
    "broken",
    "fixed",
    "still failing",
    "not comparable",
    "new",
)
# Verdicts a reader must look at first.
BAD = ("regression", "broken")
GOOD = ("improvement", "fixed")

_FROM_COMPARE = {
    verdicts.REGRESSION: "regression",
    verdicts.IMPROVEMENT: "improvement",
    verdicts.NO_CHANGE: "unchanged",
    verdicts.SMOKE: "smoke",
}


@dataclass(frozen=True)
class Change:
    """One point of the current results against the same point of the baseline."""

    current: Result  # the repeats of a point pooled into one
    base: Result | None
    verdict: str  # one of VERDICTS
    ratio: float | None = None  # current / baseline throughput, both measured
    ratio_ci: tuple[float, float] | None = None
    p_value: float | None = None
    marks: tuple[str, ...] = ()  # what differs besides the code: host, versions
    reason: str | None = None  # why a point is not comparable

    @property
    def percent(self) -> float | None:
        """The throughput change in percent (positive: faster)."""
        return None if self.ratio is None else (self.ratio - 1.0) * 100.0


def _ok(r: Result) -> bool:
    return r.status == "ok" and r.samples_per_sec is not None


def _not_comparable(base: Result, current: Result) -> str:
    if _ok(base) and not _ok(current):
        return "broken"
    if _ok(current) and not _ok(base):
        return "fixed"
    if not _ok(base) and not _ok(current):
        return "still failing"
    return "not comparable"  # both measured, too few windows to judge


def compare_results(
    base: Sequence[Result],
    current: Sequence[Result],
    threshold: float = THRESHOLD,
    alpha: float = ALPHA,
) -> list[Change]:
    """Each current point judged against the baseline's same point (``Result.point_key``)."""
    judged = verdicts.compare(base, current, threshold, alpha).points
    by_point = {p.point_key: p for p in judged}
    base_by_point = {r.point_key: r for r in pool_repeats(base)}  # the newest run's wins
    changes = []
    for r in pool_repeats(current):
        point, before = by_point.get(r.point_key), base_by_point.get(r.point_key)
        if point is None or before is None:
            changes.append(Change(r, before, "new"))
            continue
        verdict = _FROM_COMPARE.get(point.verdict) or _not_comparable(before, r)
        changes.append(
            Change(
                r,
                before,
                verdict,
                point.ratio,
                point.ratio_ci,
                point.p_value,
                point.marks,
                point.reason if verdict in ("not comparable", "smoke") else None,
            )
        )
    return changes


def rule(threshold: float = THRESHOLD, alpha: float = ALPHA) -> str:
    """When a change counts, in words, for captions."""
    return (
        f"A change counts when the throughput moved beyond ±{threshold:.0%} and significantly "
        f"(p < {alpha:g}: over processes where both sides have repeats, else a Mann-Whitney U "
        "test over windows, which cannot see the spread between processes). A point with "
        "fewer than 6 timed windows on a side has no 95% interval: a smoke measurement, "
        "never counted."
    )
