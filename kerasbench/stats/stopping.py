"""When a worker stops adding timed windows: a fixed count, or a target CI width."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kerasbench.stats.intervals import (
    MIN_CI_WINDOWS,
    WindowStats,
    ci_half_width_rel,
    order_statistic_median_ci,
)

# Timed seconds a point must have measured before it may stop on its target CI, so that
# a lucky run of quiet windows cannot end a point after half a second.
MIN_TIMED_S = 2.0

STOP_STEPS, STOP_TARGET_CI, STOP_MAX_TIME, STOP_MAX_WINDOWS = (
    "steps",
    "target_ci",
    "max_time",
    "max_windows",
)


@dataclass
class StopRule:
    """When a worker stops adding timed windows.

    With ``target_ci`` 0 it stops after ``fixed_windows`` windows ("steps").
    Otherwise it stops once it has at least ``min_windows`` windows (and never
    fewer than ``MIN_CI_WINDOWS``, below which no 95% CI exists), at least
    ``min_time`` seconds of timed windows, and the 95% CI of the median
    per-step time (``median_ci``) is at most ``target_ci`` of the median
    ("target_ci"), or when ``max_time`` seconds of timed windows have
    passed ("max_time"), or at ``max_windows`` ("max_windows", a safety cap).
    The cheap order-statistic interval is checked first; the interval the
    result reports only confirms, so the check stays cheap.
    """

    fixed_windows: int
    target_ci: float = 0.0
    max_time: float = 0.0  # 0 = no limit
    min_windows: int = 5
    min_time: float = MIN_TIMED_S
    max_windows: int = 100_000
    _next_bootstrap_at: int = field(default=0, repr=False)  # state: one rule per run

    def decide(self, step_times_s: Sequence[float], elapsed_s: float) -> str | None:
        """The stop reason after these windows, or None to measure another window."""
        n = len(step_times_s)
        if self.target_ci <= 0:
            return STOP_STEPS if n >= self.fixed_windows else None
        ready = n >= max(self.min_windows, MIN_CI_WINDOWS) and elapsed_s >= self.min_time
        if ready and n >= self._next_bootstrap_at:
            cheap = order_statistic_median_ci(step_times_s)
            if ci_half_width_rel(step_times_s, cheap) <= self.target_ci * 1.5:
                if WindowStats.of(step_times_s).ci_half_width_rel <= self.target_ci:
                    return STOP_TARGET_CI
                # Not yet: the next bootstrap waits for 10% more windows, so that
                # the checks cost O(n) bootstraps over a run, not one per window.
                self._next_bootstrap_at = n + max(1, n // 10)
        if self.max_time and elapsed_s >= self.max_time and n >= 2:
            return STOP_MAX_TIME
        if n >= self.max_windows:
            return STOP_MAX_WINDOWS
        return None
