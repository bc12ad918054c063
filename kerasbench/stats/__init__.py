"""Statistics over timing windows: median, its confidence interval, spread, significance.

A window is K steps timed between two device synchronisations; its per-step
time is the window duration divided by K. Windows, not single steps, are the
samples, because within a window the device runs asynchronously and single
steps cannot be timed without disturbing it.

The 95% confidence interval of the median depends on how many windows there
are (``ci_method``), so that an interval covers what it says:

- fewer than ``MIN_CI_WINDOWS`` (6): none. No distribution-free 95% interval of
  a median exists below 6 values (the widest, [x(1), x(n)], covers 1 - 2/2^n:
  50% for 2 windows, 94% for 5); a percentile bootstrap over 2 windows is just
  their range. Such a record is a smoke measurement: it has a median, no CI,
  and ``compare`` never calls it significant.
- 6 to ``BOOTSTRAP_MIN_WINDOWS`` - 1 (19): order statistics, the exact
  binomial interval [x(k), x(n+1-k)] with the largest k whose coverage
  1 - 2 P(Binomial(n, 1/2) < k) is at least 95% (6 windows: [x(1), x(6)],
  96.9%). It assumes only that the windows are exchangeable.
- ``BOOTSTRAP_MIN_WINDOWS`` (20) and more: the percentile bootstrap (resample
  the windows with replacement, take the median of each resample, report the
  2.5th and 97.5th percentiles). Below 20 windows it covers only 91-94% in
  simulation (normal, log-normal and exponential windows); from 20 about 95%.

Windows are assumed exchangeable, which is why warm-up is excluded from them.
The bootstrap generator is seeded, so the same windows always give the same
interval.
"""

from kerasbench.stats.intervals import (
    BOOTSTRAP_MIN_WINDOWS,
    BOOTSTRAP_RESAMPLES,
    CI_BOOTSTRAP,
    CI_NONE,
    CI_ORDER,
    MIN_CI_WINDOWS,
    PooledStats,
    WindowStats,
    bootstrap_median_ci,
    ci_half_width_rel,
    ci_method,
    coefficient_of_variation,
    is_finite_positive,
    median,
    median_ci,
    order_statistic_median_ci,
)
from kerasbench.stats.stopping import (
    MIN_TIMED_S,
    STOP_MAX_TIME,
    STOP_MAX_WINDOWS,
    STOP_STEPS,
    STOP_TARGET_CI,
    StopRule,
)
from kerasbench.stats.trend import SteadyState, mann_kendall_p, theil_sen_slope
from kerasbench.stats.twosample import grouped_ratio_test, mann_whitney_u, throughput_ratio_ci

__all__ = [
    "BOOTSTRAP_MIN_WINDOWS",
    "BOOTSTRAP_RESAMPLES",
    "CI_BOOTSTRAP",
    "CI_NONE",
    "CI_ORDER",
    "MIN_CI_WINDOWS",
    "MIN_TIMED_S",
    "STOP_MAX_TIME",
    "STOP_MAX_WINDOWS",
    "STOP_STEPS",
    "STOP_TARGET_CI",
    "PooledStats",
    "SteadyState",
    "StopRule",
    "WindowStats",
    "bootstrap_median_ci",
    "ci_half_width_rel",
    "ci_method",
    "coefficient_of_variation",
    "grouped_ratio_test",
    "is_finite_positive",
    "mann_kendall_p",
    "mann_whitney_u",
    "median",
    "median_ci",
    "order_statistic_median_ci",
    "theil_sen_slope",
    "throughput_ratio_ci",
]
