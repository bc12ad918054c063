"""Latency percentiles and their bootstrap confidence intervals.

A percentile here is the nearest-rank one (the value at rank ceil(q*n) of the
sorted latencies), as MLPerf LoadGen reports: it is always an observed latency.
Its 95% CI is a percentile bootstrap: resample the latencies with replacement
(a seeded generator, so the same latencies give the same interval), take the
percentile of each resample, and read the interval with the same rule as every
other bootstrap in kerasbench (``kerasbench.stats``). The bootstrap treats the
requests as exchangeable; under queueing neighbouring latencies are correlated,
so a server scenario's interval is narrower than the truth. The interval of the
maximum is degenerate by construction (its upper end is the observed maximum).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kerasbench.stats.intervals import BOOTSTRAP_RESAMPLES, percentile_interval, resample_chunks

# The percentiles every latency record carries; "max" is q = 1.
QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99, "max": 1.0}


def nearest_rank(sorted_values: np.ndarray, q: float) -> float:
    """The nearest-rank ``q`` percentile of already sorted values (along the last axis)."""
    n = sorted_values.shape[-1]
    index = min(n - 1, max(0, int(math.ceil(q * n)) - 1))
    return sorted_values[..., index]


@dataclass(frozen=True)
class Percentile:
    """One latency percentile in seconds with its 95% bootstrap interval."""

    value_s: float
    ci_low_s: float
    ci_high_s: float


def latency_percentiles(
    latencies_s: Sequence[float],
    quantiles: dict[str, float] = QUANTILES,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Percentile]:
    """Each named percentile of ``latencies_s`` with its bootstrap CI."""
    values = np.sort(np.asarray(latencies_s, dtype=np.float64))
    if values.size == 0:
        raise ValueError("latency_percentiles: no latencies")
    boot: dict[str, list[float]] = {name: [] for name in quantiles}
    for chunk in resample_chunks(values, resamples, np.random.default_rng(seed)):
        sample = np.sort(chunk, axis=1)
        for name, q in quantiles.items():
            boot[name].extend(nearest_rank(sample, q).tolist())
    out = {}
    for name, q in quantiles.items():
        low, high = percentile_interval(sorted(boot[name]), confidence)
        out[name] = Percentile(float(nearest_rank(values, q)), float(low), float(high))
    return out


def percentiles_ms(percentiles: dict[str, Percentile]) -> dict[str, float]:
    """Flat record fields: ``p99_ms``, ``p99_ci_low_ms``, ``p99_ci_high_ms`` and so on."""
    out = {}
    for name, p in percentiles.items():
        out[f"{name}_ms"] = p.value_s * 1e3
        out[f"{name}_ci_low_ms"] = p.ci_low_s * 1e3
        out[f"{name}_ci_high_ms"] = p.ci_high_s * 1e3
    return out


def percentile_ratio_ci(
    base_s: Sequence[float],
    new_s: Sequence[float],
    q: float = 0.99,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """new / base of the nearest-rank ``q`` percentile, with its percentile-bootstrap CI.

    Each side is resampled on its own (the two runs are independent); the
    interval is read with the rule of every kerasbench bootstrap. It is the
    test ``kerasbench compare`` gates p99 on: a CI that excludes 1 is a
    significant change. Like ``latency_percentiles`` it treats requests as
    exchangeable, so it says whether these two runs differ, not how much
    another process would.
    """
    base = np.sort(np.asarray(base_s, dtype=np.float64))
    new = np.sort(np.asarray(new_s, dtype=np.float64))
    if base.size == 0 or new.size == 0:
        raise ValueError("percentile_ratio_ci: a side has no latencies")
    rng = np.random.default_rng(seed)
    on_base = [nearest_rank(np.sort(c, axis=1), q) for c in resample_chunks(base, resamples, rng)]
    on_new = [nearest_rank(np.sort(c, axis=1), q) for c in resample_chunks(new, resamples, rng)]
    ratios = (np.concatenate(on_new) / np.concatenate(on_base)).tolist()
    low, high = percentile_interval(sorted(ratios), confidence)
    return float(nearest_rank(new, q) / nearest_rank(base, q)), float(low), float(high)
