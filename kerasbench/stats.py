"""Statistics over timing windows: median, bootstrap confidence interval, spread.

A window is K steps timed between two device synchronisations; its per-step
time is the window duration divided by K. Windows, not single steps, are the
samples, because within a window the device runs asynchronously and single
steps cannot be timed without disturbing it.

The 95% confidence interval of the median is a percentile bootstrap over the
windows (resample the windows with replacement, take the median of each
resample, report the 2.5th and 97.5th percentiles). It assumes the windows are
exchangeable, which is why warm-up is excluded from them. The generator is
seeded, so the same windows always give the same interval.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

BOOTSTRAP_RESAMPLES = 2000


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _percentile_interval(resampled: list[float], confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval of sorted bootstrap statistics (percentile method)."""
    alpha = (1 - confidence) / 2
    last = len(resampled) - 1
    return resampled[int(math.floor(alpha * last))], resampled[int(math.ceil((1 - alpha) * last))]


def _two_level_median(groups: Sequence[Sequence[float]], rng: random.Random) -> float:
    """Median of one two-level resample: processes with replacement, then windows within each."""
    picked = rng.choices(groups, k=len(groups))
    return statistics.median([v for g in picked for v in rng.choices(g, k=len(g))])


def bootstrap_median_ci(
    values: Sequence[float],
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the median of ``values``."""
    if not values:
        raise ValueError("no values")
    if len(values) == 1:
        return (values[0], values[0])
    rng = random.Random(seed)
    n = len(values)
    medians = sorted(statistics.median(rng.choices(values, k=n)) for _ in range(resamples))
    return _percentile_interval(medians, confidence)


def coefficient_of_variation(values: Sequence[float]) -> float:
    """Sample standard deviation over mean (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean else 0.0


@dataclass(frozen=True)
class WindowStats:
    """Summary of one point's per-step times (seconds), one value per window."""

    median_s: float
    ci_low_s: float
    ci_high_s: float
    cv: float
    n_windows: int

    @classmethod
    def of(cls, step_times_s: Sequence[float]) -> WindowStats:
        low, high = bootstrap_median_ci(step_times_s)
        return cls(
            median_s=median(step_times_s),
            ci_low_s=low,
            ci_high_s=high,
            cv=coefficient_of_variation(step_times_s),
            n_windows=len(step_times_s),
        )

    @property
    def ci_half_width_rel(self) -> float:
        """Half the CI width relative to the median (0.02 means ±2%)."""
        return (self.ci_high_s - self.ci_low_s) / 2 / self.median_s if self.median_s else 0.0


# --- cheap interval for stopping rules -------------------------------------


def order_statistic_median_ci(
    values: Sequence[float], confidence: float = 0.95
) -> tuple[float, float]:
    """Distribution-free confidence interval of the median from order statistics.

    The interval [x_(j), x_(k)] of the sorted values with j, k symmetric around
    n/2 from the Binomial(n, 1/2) distribution (normal approximation of its
    quantile). It needs only a sort, so a worker can check it after every window
    without a bootstrap; with fewer than 6 values it is the whole range.
    """
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    n = len(ordered)
    z = _normal_quantile(1 - (1 - confidence) / 2)
    half = z * math.sqrt(n) / 2
    low_index = max(0, int(math.floor(n / 2 - half)) - 1)
    high_index = min(n - 1, int(math.ceil(n / 2 + half)))
    return ordered[low_index], ordered[high_index]


def _normal_quantile(p: float) -> float:
    return statistics.NormalDist().inv_cdf(p)


def ci_half_width_rel(values: Sequence[float], ci: tuple[float, float]) -> float:
    """Half the width of ``ci`` relative to the median of ``values``."""
    mid = median(values)
    return (ci[1] - ci[0]) / 2 / mid if mid else math.inf


# --- stopping rule ------------------------------------------------------------

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
    Otherwise it stops once it has at least ``min_windows`` and the 95%
    bootstrap CI of the median per-step time is at most ``target_ci`` of the
    median ("target_ci"), or when ``max_time`` seconds of timed windows have
    passed ("max_time"), or at ``max_windows`` ("max_windows", a safety cap).
    The cheap order-statistic interval is checked first; the bootstrap (the
    interval the result reports) only confirms, so the check stays cheap.
    """

    fixed_windows: int
    target_ci: float = 0.0
    max_time: float = 0.0  # 0 = no limit
    min_windows: int = 5
    max_windows: int = 100_000
    _next_bootstrap_at: int = field(default=0, repr=False)  # state: one rule per run

    def decide(self, step_times_s: Sequence[float], elapsed_s: float) -> str | None:
        """The stop reason after these windows, or None to measure another window."""
        n = len(step_times_s)
        if self.target_ci <= 0:
            return STOP_STEPS if n >= self.fixed_windows else None
        if n >= self.min_windows and n >= self._next_bootstrap_at:
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


# --- steady state -------------------------------------------------------------

SETTLE_MIN_WINDOWS = 8
SETTLE_ALPHA = 0.01
SETTLE_MAX_DRIFT = 0.05


@dataclass(frozen=True)
class SteadyState:
    """How the per-step time moved over the timed windows.

    ``drift`` is the Theil-Sen slope over the last half of the windows times
    their span, relative to the median: the change from the start to the end of
    that half that a straight line explains. A point "never settles" when over
    its last half the Mann-Kendall trend test is significant (p < 0.01) AND
    the drift exceeds 5% of the median; both must hold, so that a tiny but
    steady trend, or a noisy but flat series, still counts as settled. Fewer
    than 8 windows: ``settled`` is None (not enough to tell).
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
            tail = list(step_times_s[len(step_times_s) // 2 :])
            p = mann_kendall_p(tail)
            drift = theil_sen_slope(tail) * (len(tail) - 1) / steady if steady else 0.0
            settled = not (p < SETTLE_ALPHA and abs(drift) > SETTLE_MAX_DRIFT)
        return cls(first, steady, first / steady if steady else math.nan, drift, p, settled)


def theil_sen_slope(values: Sequence[float]) -> float:
    """Median of pairwise slopes of ``values`` against their index (robust trend)."""
    slopes = [
        (values[j] - values[i]) / (j - i)
        for i in range(len(values))
        for j in range(i + 1, len(values))
    ]
    return median(slopes) if slopes else 0.0


def mann_kendall_p(values: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Kendall test for a monotone trend.

    S = sum of sign(x_j - x_i) over i < j; under no trend S is approximately
    normal with mean 0 and variance n(n-1)(2n+5)/18 minus the tie correction;
    a continuity correction of 1 is applied.
    """
    n = len(values)
    if n < 3:
        return 1.0
    s = 0
    for i in range(n):
        for j in range(i + 1, n):
            diff = values[j] - values[i]
            s += (diff > 0) - (diff < 0)
    ties: dict[float, int] = {}
    for v in values:
        ties[v] = ties.get(v, 0) + 1
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties.values())) / 18
    if var <= 0 or s == 0:
        return 1.0
    z = (abs(s) - 1) / math.sqrt(var)
    return 2 * (1 - statistics.NormalDist().cdf(z))


# --- two samples: Mann-Whitney U and the throughput ratio --------------------

EXACT_U_MAX_PRODUCT = 2500


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Two-sided Mann-Whitney U test: (U of ``a``, p-value).

    Exact null distribution when there are no ties and len(a)*len(b) is at
    most 2500; otherwise the normal approximation with tie-corrected variance
    and a continuity correction of 0.5 (as scipy's "asymptotic" method).
    """
    m, n = len(a), len(b)
    if not m or not n:
        raise ValueError("both samples need values")
    pooled = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(pooled)
    tie_sizes = []
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        tie_sizes.append(j - i + 1)
        i = j + 1
    rank_sum_a = sum(r for r, (_, side) in zip(ranks, pooled, strict=True) if side == 0)
    u_a = rank_sum_a - m * (m + 1) / 2
    has_ties = any(t > 1 for t in tie_sizes)
    if not has_ties and m * n <= EXACT_U_MAX_PRODUCT:
        return u_a, _exact_u_p(u_a, m, n)
    mean = m * n / 2
    total = m + n
    tie_term = sum(t**3 - t for t in tie_sizes) / (total * (total - 1))
    var = m * n / 12 * ((total + 1) - tie_term)
    if var <= 0:
        return u_a, 1.0
    z = (abs(u_a - mean) - 0.5) / math.sqrt(var)
    return u_a, min(1.0, 2 * (1 - statistics.NormalDist().cdf(max(z, 0.0))))


def _exact_u_p(u: float, m: int, n: int) -> float:
    """Two-sided exact p-value of U for sample sizes m, n without ties."""
    # counts[k] = number of arrangements with U = k, built by adding one
    # element at a time (the classic recurrence f(m, n) = f(m-1, n)[k-n] + f(m, n-1)[k]).
    table = [[[1] for _ in range(n + 1)] for _ in range(m + 1)]
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            size = i * j + 1
            counts = [0] * size
            left, below = table[i - 1][j], table[i][j - 1]
            for k, c in enumerate(left):
                counts[k + j] += c
            for k, c in enumerate(below):
                counts[k] += c
            table[i][j] = counts
    counts = table[m][n]
    total = sum(counts)
    k = int(round(min(u, m * n - u)))
    tail = sum(counts[: k + 1])
    return min(1.0, 2 * tail / total)


def throughput_ratio_ci(
    base_step_s: Sequence[float],
    new_step_s: Sequence[float],
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(ratio, low, high): NEW throughput over BASE throughput, i.e. median(base)/median(new).

    The interval is a percentile bootstrap that resamples both sides' windows
    independently. A ratio below 1 means NEW is slower.
    """
    ratio = median(base_step_s) / median(new_step_s)
    rng = random.Random(seed)
    ratios = sorted(
        statistics.median(rng.choices(base_step_s, k=len(base_step_s)))
        / statistics.median(rng.choices(new_step_s, k=len(new_step_s)))
        for _ in range(resamples)
    )
    low, high = _percentile_interval(ratios, confidence)
    return ratio, low, high


def grouped_ratio_test(
    base_groups: Sequence[Sequence[float]],
    new_groups: Sequence[Sequence[float]],
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float, float, float]:
    """(ratio, low, high, p) for a point measured by several processes on each side.

    ``*_groups`` hold each process's per-step window times. The ratio is NEW
    throughput over BASE throughput from the pooled medians (as the report
    pools repeats). Each bootstrap resample draws, on each side, processes with
    replacement and then windows within each drawn process (the two-level
    bootstrap of ``PooledStats``), so the spread between processes is in the
    interval; a test over pooled windows would treat them as independent and
    call run-to-run differences significant. ``p`` is the two-sided bootstrap
    p-value: twice the share of resampled ratios on the far side of 1 (with
    the usual +1 correction, so never 0). With two or three processes a side
    the interval is somewhat narrow (few distinct resamples of processes).
    """
    base_groups = [list(g) for g in base_groups if g]
    new_groups = [list(g) for g in new_groups if g]
    if not base_groups or not new_groups:
        raise ValueError("both sides need values")
    pooled_base = [v for g in base_groups for v in g]
    pooled_new = [v for g in new_groups for v in g]
    ratio = median(pooled_base) / median(pooled_new)
    rng = random.Random(seed)
    ratios = sorted(
        _two_level_median(base_groups, rng) / _two_level_median(new_groups, rng)
        for _ in range(resamples)
    )
    low, high = _percentile_interval(ratios, confidence)
    below = sum(r <= 1 for r in ratios)
    above = sum(r >= 1 for r in ratios)
    p = min(1.0, 2 * (min(below, above) + 1) / (resamples + 1))
    return ratio, low, high, p


# --- repeats: several worker processes of one point --------------------------


@dataclass(frozen=True)
class PooledStats:
    """Per-step times of one point measured by several processes (repeats).

    ``median_s`` and its CI pool every window of every process; the CI is a
    two-level bootstrap (resample the processes, then the windows within each),
    so that it widens when processes disagree. ``between_cv`` is the CV of the
    per-process medians (process-to-process spread: placement, frequency,
    allocator luck); ``within_cv`` is the median of the per-process CVs
    (window-to-window noise inside one process).
    """

    median_s: float
    ci_low_s: float
    ci_high_s: float
    between_cv: float
    within_cv: float
    n_processes: int
    n_windows: int

    @classmethod
    def of(
        cls, groups: Sequence[Sequence[float]], resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
    ) -> PooledStats:
        groups = [list(g) for g in groups if g]
        if not groups:
            raise ValueError("no values")
        everything = [v for g in groups for v in g]
        if len(groups) == 1:
            low, high = bootstrap_median_ci(groups[0], resamples=resamples, seed=seed)
        else:
            rng = random.Random(seed)
            medians = sorted(_two_level_median(groups, rng) for _ in range(resamples))
            low, high = _percentile_interval(medians, 0.95)
        return cls(
            median_s=median(everything),
            ci_low_s=low,
            ci_high_s=high,
            between_cv=coefficient_of_variation([median(g) for g in groups]),
            within_cv=median([coefficient_of_variation(g) for g in groups]),
            n_processes=len(groups),
            n_windows=len(everything),
        )
