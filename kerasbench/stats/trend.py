"""Whether a point's step time settled: first window against the rest, drift over the last half."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kerasbench.stats.intervals import median

SETTLE_MIN_WINDOWS = 8
SETTLE_ALPHA = 0.01
SETTLE_MAX_DRIFT = 0.05
# Above this many values the trend tests run on the medians of this many consecutive,
# equal groups: both tests compare every pair (O(n^2)), and a latency point can
# time a request per window, hundreds of thousands of them.
TREND_MAX_POINTS = 1000


@dataclass(frozen=True)
class SteadyState:
    """How the per-step time moved over the timed windows.

    ``drift`` is the Theil-Sen slope over the last half of the windows times
    their span, relative to the median: the change from the start to the end of
    that half that a straight line explains. A point "never settles" when over
    its last half the Mann-Kendall trend test is significant (p < 0.01) AND
    the drift exceeds 5% of the median; both must hold, so that a tiny but
    steady trend, or a noisy but flat series, still counts as settled. Fewer
    than 8 windows: ``settled`` is None (not enough to tell). A last half of
    more than ``TREND_MAX_POINTS`` windows is tested as the medians of that
    many consecutive groups (a trend in the windows is a trend in the groups).
    """

    first_window_s: float
    steady_s: float  # median per-step time of all windows
    first_window_ratio: float  # first window time / steady time (>1: first was slower)
    drift: float | None
    trend_p: float | None
    settled: bool | None

    @classmethod
    def of(cls, step_times_s: Sequence[float]) -> SteadyState:
        steady = median(step_times_s)
        first = step_times_s[0]
        drift = p = settled = None
        if len(step_times_s) >= SETTLE_MIN_WINDOWS:
            tail = _grouped(step_times_s[len(step_times_s) // 2 :], TREND_MAX_POINTS)
            p = mann_kendall_p(tail)
            drift = theil_sen_slope(tail) * (len(tail) - 1) / steady if steady else 0.0
            settled = not (p < SETTLE_ALPHA and abs(drift) > SETTLE_MAX_DRIFT)
        return cls(first, steady, first / steady if steady else math.nan, drift, p, settled)


def _grouped(values: Sequence[float], most: int) -> np.ndarray:
    """``values``, or above ``most`` of them the medians of ``most`` consecutive groups."""
    array = np.asarray(values, dtype=np.float64)
    if array.size <= most:
        return array
    return np.array([np.median(g) for g in np.array_split(array, most)])


def _pairwise(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """(x_j - x_i, j - i) over every pair i < j."""
    array = np.asarray(values, dtype=np.float64)
    i, j = np.triu_indices(array.size, k=1)
    return array[j] - array[i], (j - i).astype(np.float64)


def theil_sen_slope(values: Sequence[float]) -> float:
    """Median of pairwise slopes of ``values`` against their index (robust trend)."""
    if len(values) < 2:
        return 0.0
    diffs, gaps = _pairwise(values)
    return float(np.median(diffs / gaps))


def mann_kendall_p(values: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Kendall test for a monotone trend.

    S = sum of sign(x_j - x_i) over i < j; under no trend S is approximately
    normal with mean 0 and variance n(n-1)(2n+5)/18 minus the tie correction;
    a continuity correction of 1 is applied.
    """
    n = len(values)
    if n < 3:
        return 1.0
    diffs, _ = _pairwise(values)
    s = int(np.sign(diffs).sum())
    _, counts = np.unique(np.asarray(values, dtype=np.float64), return_counts=True)
    ties = sum(int(t) * (int(t) - 1) * (2 * int(t) + 5) for t in counts)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18
    if var <= 0 or s == 0:
        return 1.0
    z = (abs(s) - 1) / math.sqrt(var)
    return 2 * (1 - statistics.NormalDist().cdf(z))
