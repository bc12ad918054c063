"""Two samples of window times: Mann-Whitney U and the throughput ratio with its CI and p."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np

from kerasbench.stats.intervals import (
    BOOTSTRAP_RESAMPLES,
    median,
    percentile_interval,
    resampled_medians,
    two_level_medians,
)

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
    rng = np.random.default_rng(seed)
    base = resampled_medians(base_step_s, resamples, rng)
    ratios = base / resampled_medians(new_step_s, resamples, rng)
    low, high = percentile_interval(sorted(ratios.tolist()), confidence)
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
    rng = np.random.default_rng(seed)
    base = two_level_medians(base_groups, resamples, rng)
    ratios = sorted((base / two_level_medians(new_groups, resamples, rng)).tolist())
    low, high = percentile_interval(ratios, confidence)
    below = sum(r <= 1 for r in ratios)
    above = sum(r >= 1 for r in ratios)
    p = min(1.0, 2 * (min(below, above) + 1) / (resamples + 1))
    return ratio, low, high, p
