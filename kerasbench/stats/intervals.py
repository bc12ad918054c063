"""Confidence intervals of a median over timing windows, chosen by the window count.

See the package docstring (``kerasbench.stats``) for which interval is used when.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
# Resampled values held in memory at once by a bootstrap (32 MB of float64).
CHUNK_VALUES = 4_000_000
# The fewest windows with a distribution-free 95% CI of the median ([x(1), x(6)]: 96.9%).
MIN_CI_WINDOWS = 6
# The fewest windows from which the percentile bootstrap covers about 95% (see above).
BOOTSTRAP_MIN_WINDOWS = 20
# Above this many values the order-statistic interval uses the normal approximation.
EXACT_ORDER_MAX = 500
CI_NONE, CI_ORDER, CI_BOOTSTRAP = "none", "order statistics", "bootstrap"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile_interval(resampled: list[float], confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval of sorted bootstrap statistics (percentile method)."""
    alpha = (1 - confidence) / 2
    last = len(resampled) - 1
    return resampled[int(math.floor(alpha * last))], resampled[int(math.ceil((1 - alpha) * last))]


def resample_chunks(
    values: np.ndarray, resamples: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """``resamples`` resamples of ``values`` with replacement, as rows of a few
    arrays that each hold at most ``CHUNK_VALUES`` values (memory stays flat)."""
    n = values.shape[-1]
    per_chunk = max(1, CHUNK_VALUES // max(1, n))
    done = 0
    while done < resamples:
        k = min(per_chunk, resamples - done)
        yield values[rng.integers(0, n, size=(k, n))]
        done += k


def resampled_medians(
    values: Sequence[float], resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """The medians of ``resamples`` bootstrap resamples of ``values``."""
    array = np.asarray(values, dtype=np.float64)
    return np.concatenate(
        [np.median(chunk, axis=1) for chunk in resample_chunks(array, resamples, rng)]
    )


def two_level_medians(
    groups: Sequence[Sequence[float]], resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Medians of ``resamples`` two-level resamples: processes with replacement, then
    windows within each drawn process."""
    arrays = [np.asarray(g, dtype=np.float64) for g in groups]
    flat = np.concatenate(arrays)
    sizes = np.array([a.size for a in arrays])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = np.empty(resamples)
    for r in range(resamples):
        picked = rng.integers(0, len(arrays), size=len(arrays))
        lengths = np.repeat(sizes[picked], sizes[picked])
        starts = np.repeat(offsets[picked], sizes[picked])
        within = (rng.random(lengths.size) * lengths).astype(np.int64)
        out[r] = np.median(flat[starts + within])
    return out


def bootstrap_median_ci(
    values: Sequence[float],
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the median of ``values``."""
    if not len(values):
        raise ValueError("no values")
    if len(values) == 1:
        return (float(values[0]), float(values[0]))
    medians = resampled_medians(values, resamples, np.random.default_rng(seed))
    low, high = percentile_interval(sorted(medians.tolist()), confidence)
    return float(low), float(high)


def ci_method(n_windows: int) -> str:
    """How the 95% CI of a median over ``n_windows`` windows is found (see the module doc)."""
    if n_windows < MIN_CI_WINDOWS:
        return CI_NONE
    return CI_ORDER if n_windows < BOOTSTRAP_MIN_WINDOWS else CI_BOOTSTRAP


def median_ci(values: Sequence[float], seed: int = 0) -> tuple[float, float] | None:
    """The 95% CI of the median of ``values`` by ``ci_method``; None below 6 values."""
    method = ci_method(len(values))
    if method == CI_NONE:
        return None
    if method == CI_ORDER:
        return order_statistic_median_ci(values)
    return bootstrap_median_ci(values, seed=seed)


def is_finite_positive(values: Sequence[float]) -> bool:
    """Whether every value is a finite number above 0 (a window time that can be used)."""
    return all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in values)


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
    ci_low_s: float | None  # None: too few windows for a 95% interval (ci_method)
    ci_high_s: float | None
    cv: float
    n_windows: int

    @classmethod
    def of(cls, step_times_s: Sequence[float]) -> WindowStats:
        ci = median_ci(step_times_s)
        return cls(
            median_s=median(step_times_s),
            ci_low_s=None if ci is None else ci[0],
            ci_high_s=None if ci is None else ci[1],
            cv=coefficient_of_variation(step_times_s),
            n_windows=len(step_times_s),
        )

    @property
    def ci_half_width_rel(self) -> float:
        """Half the CI width relative to the median (0.02 means ±2%); inf without a CI."""
        if self.ci_low_s is None or self.ci_high_s is None:
            return math.inf
        return (self.ci_high_s - self.ci_low_s) / 2 / self.median_s if self.median_s else 0.0

    def scaled_ci(self, factor: float) -> tuple[float, float] | None:
        """The CI of the per-step time times ``factor`` (1e3: milliseconds); None without one."""
        if self.ci_low_s is None or self.ci_high_s is None:
            return None
        return (self.ci_low_s * factor, self.ci_high_s * factor)

    def throughput_ci(self, items_per_step: float) -> tuple[float, float] | None:
        """The CI of ``items_per_step`` / step time (a slower step bounds it below)."""
        if self.ci_low_s is None or self.ci_high_s is None:
            return None
        return (items_per_step / self.ci_high_s, items_per_step / self.ci_low_s)


# --- cheap interval for stopping rules -------------------------------------


def order_statistic_median_ci(
    values: Sequence[float], confidence: float = 0.95
) -> tuple[float, float]:
    """Distribution-free confidence interval of the median from order statistics.

    The interval [x(k), x(n+1-k)] of the sorted values with the largest k whose
    exact coverage 1 - 2 P(Binomial(n, 1/2) < k) is at least ``confidence``.
    It needs only a sort, so a worker can check it after every window. With
    too few values for ``confidence`` (fewer than 6 for 95%) no k qualifies and
    it returns the whole range, whose coverage is below ``confidence``: callers
    that report an interval use ``median_ci``, which gives none then.
    """
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    n = len(ordered)
    if n > EXACT_ORDER_MAX:  # the binomial is normal enough; its exact sum would underflow
        half = _normal_quantile(1 - (1 - confidence) / 2) * math.sqrt(n) / 2
        k = max(1, int(math.floor(n / 2 - half)))
        return ordered[k - 1], ordered[n - k]
    k = 1
    pmf = 0.5**n  # P(B = 0) for B ~ Binomial(n, 1/2)
    tail = pmf  # P(B < k)
    while k < (n + 1) // 2:
        pmf *= (n - k + 1) / k  # P(B = k)
        if 1 - 2 * (tail + pmf) < confidence:  # k + 1 would cover too little
            break
        tail += pmf
        k += 1
    return ordered[k - 1], ordered[n - k]


def _normal_quantile(p: float) -> float:
    return statistics.NormalDist().inv_cdf(p)


def ci_half_width_rel(values: Sequence[float], ci: tuple[float, float]) -> float:
    """Half the width of ``ci`` relative to the median of ``values``."""
    mid = median(values)
    return (ci[1] - ci[0]) / 2 / mid if mid else math.inf


# --- repeats: several worker processes of one point --------------------------


@dataclass(frozen=True)
class PooledStats:
    """Per-step times of one point measured by several processes (repeats).

    ``median_s`` and its CI pool every window of every process; the CI is a
    two-level bootstrap (resample the processes, then the windows within each),
    so that it widens when processes disagree; with fewer than ``MIN_CI_WINDOWS``
    windows in all there is none, and one process gets ``median_ci``.
    ``between_cv`` is the CV of the per-process medians (process-to-process
    spread: placement, frequency, allocator luck); ``within_cv`` is the median
    of the per-process CVs
    (window-to-window noise inside one process).
    """

    median_s: float
    ci_low_s: float | None  # None: fewer windows in all than MIN_CI_WINDOWS
    ci_high_s: float | None
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
        ci: tuple[float, float] | None = None
        if len(groups) == 1:
            ci = median_ci(groups[0], seed=seed)
        elif len(everything) >= MIN_CI_WINDOWS:
            medians = two_level_medians(groups, resamples, np.random.default_rng(seed))
            ci = percentile_interval(sorted(medians.tolist()), 0.95)
        return cls(
            median_s=median(everything),
            ci_low_s=None if ci is None else ci[0],
            ci_high_s=None if ci is None else ci[1],
            between_cv=coefficient_of_variation([median(g) for g in groups]),
            within_cv=median([coefficient_of_variation(g) for g in groups]),
            n_processes=len(groups),
            n_windows=len(everything),
        )
