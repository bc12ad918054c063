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
from dataclasses import dataclass

BOOTSTRAP_RESAMPLES = 2000


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


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
    alpha = (1 - confidence) / 2
    low = medians[int(math.floor(alpha * (resamples - 1)))]
    high = medians[int(math.ceil((1 - alpha) * (resamples - 1)))]
    return (low, high)


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
