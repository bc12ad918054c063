"""A minimal comparison of results with a baseline, point by point, for the HTML report.

``compare_results`` is the one function the report calls; a fuller comparison
(significance tests, a ``kerasbench compare`` command) can replace it as long as
it returns the same ``Change`` records.

A change counts only when it is larger than ``threshold`` and the two 95%
confidence intervals of the throughput do not overlap: a 6% difference inside
noisy intervals is "unchanged", not a regression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kerasbench.result import Result

THRESHOLD = 0.05  # relative change below which a difference is not reported

VERDICTS = ("regression", "improvement", "unchanged", "broken", "fixed", "still failing", "new")
# Verdicts a reader must look at first.
BAD = ("regression", "broken")
GOOD = ("improvement", "fixed")


@dataclass(frozen=True)
class Change:
    """One point of the current results against the same point of the baseline."""

    current: Result
    base: Result | None
    verdict: str  # one of VERDICTS
    ratio: float | None = None  # current / baseline throughput, both measured

    @property
    def percent(self) -> float | None:
        """The throughput change in percent (positive: faster)."""
        return None if self.ratio is None else (self.ratio - 1.0) * 100.0


def _ok(r: Result) -> bool:
    return r.status == "ok" and r.samples_per_sec is not None


def _intervals_overlap(a: Result, b: Result) -> bool:
    if not a.samples_per_sec_ci or not b.samples_per_sec_ci:
        return False  # without intervals only the threshold decides
    a_low, a_high = a.samples_per_sec_ci
    b_low, b_high = b.samples_per_sec_ci
    return a_low <= b_high and b_low <= a_high


def judge(base: Result | None, current: Result, threshold: float = THRESHOLD) -> Change:
    """The verdict on one point."""
    if base is None:
        return Change(current, None, "new")
    if not _ok(current):
        return Change(current, base, "broken" if _ok(base) else "still failing")
    if not _ok(base):
        return Change(current, base, "fixed")
    assert current.samples_per_sec is not None and base.samples_per_sec is not None
    ratio = current.samples_per_sec / base.samples_per_sec
    if abs(ratio - 1.0) <= threshold or _intervals_overlap(base, current):
        return Change(current, base, "unchanged", ratio)
    return Change(current, base, "improvement" if ratio > 1 else "regression", ratio)


def compare_results(
    base: Sequence[Result], current: Sequence[Result], threshold: float = THRESHOLD
) -> list[Change]:
    """Each current result judged against the baseline result of the same point (if any).

    Points match on ``Result.point_key`` (model, backend and settings; not the
    label). Where the baseline holds a point several times, the newest counts.
    """
    by_point: dict[str, Result] = {}
    for r in base:
        by_point[r.point_key] = r  # later (newer) results win
    return [judge(by_point.get(r.point_key), r, threshold) for r in current]
