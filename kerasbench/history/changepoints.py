"""Change points in a configuration's history: where its throughput stepped, and how surely.

Method (why this one):

1. **Candidates: PELT** (Killick, Fearnhead & Eckley 2012) from ``ruptures``, with the
   ``l2`` cost on the log of each result's throughput. PELT finds the exact optimum of
   "cost + penalty x number of change points" in linear expected time; on the log
   scale a 10% step costs the same at 100 and at 25,000 samples/s, and this machine's
   noise is multiplicative. E-divisive means (Apache Otava) was the alternative: it needs
   no penalty but its PyPI package pins numpy==2.2 and pulls BigQuery and Slack clients.
2. **Penalty from the data's own noise**: ``2 sigma^2 ln n``, the BIC of a Gaussian mean
   shift (each change point adds a location and a mean: 2 parameters), with sigma
   estimated robustly from the first differences, ``1.4826 MAD(diff) / sqrt(2)``: a
   step is one large difference among many small ones, so it barely moves the MAD,
   whereas the plain standard deviation would count the step as noise. sigma is
   floored at ``SIGMA_FLOOR`` (0.5%) so that identical synthetic values are not split
   on rounding.
3. **By version**, a change can only happen where the version changes: each candidate
   is moved to the nearest version boundary.
4. **Significance of each step**, over the runs (each result's median throughput), not
   over pooled windows: this machine drifts 10-25% between runs over minutes, which the
   windows of one run know nothing about, so a test over windows calls ordinary drift
   significant. p is a **permutation test that re-chooses the split**: the results of
   the two adjacent segments are shuffled ``PERMUTATIONS`` times, and each time the best
   split (same allowed positions, at least ``MIN_SEGMENT`` results a side) is found
   again; p is the share of shuffles whose best split separates the means of the log
   throughputs at least as well as the step found. Re-choosing the split inside every
   shuffle is what makes p honest after PELT picked the place (E-divisive, as in Otava,
   tests its change points the same way); a t-test at the chosen place gave one flat
   noisy series in four a "significant" step. The 95% CI is Welch's interval of the
   ratio of the two segments' geometric means (each side's variance floored at
   ``SIGMA_FLOOR``^2), conditional on the split. Steps with p >= ``alpha`` are removed
   one at a time (the least significant first) and the neighbours merged, so every step
   reported is significant. With 2 + 2 results no split can be significant (6 orders):
   a useful history has 3 or more results per version or period.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import ruptures
from scipy import stats as scipy_stats

from kerasbench.history.series import Entry, Series
from kerasbench.stats import median

ALPHA = 0.05
SIGMA_FLOOR = 0.005  # relative (log-throughput) noise below which no sigma is believed
MIN_SEGMENT = 2  # results: one run is one draw of the run-to-run noise
PERMUTATIONS = 1999


@dataclass(frozen=True)
class Segment:
    """A stretch of the history with one level: entries [start, end)."""

    start: int
    end: int
    first: str  # label (date or version) of its first entry
    last: str
    n_results: int
    throughput: float  # median of its results' throughputs


@dataclass(frozen=True)
class Step:
    """The change between two adjacent segments (ratio: after / before median throughput)."""

    at: int  # index of the first entry of ``after``
    label: str
    ratio: float
    ci: tuple[float, float]  # 95% CI of the ratio of the segments' geometric means
    p: float  # permutation test over the two segments' results (see the module doc)

    @property
    def change(self) -> float:
        return self.ratio - 1.0


@dataclass(frozen=True)
class History:
    """The segments and steps found in one series, with the noise figures used."""

    series: Series
    segments: tuple[Segment, ...]
    steps: tuple[Step, ...]
    sigma: float  # estimated relative noise between consecutive results
    penalty: float


def noise_sigma(values: Sequence[float]) -> float:
    """Robust noise of a series from its first differences (MAD scaled to a Gaussian sigma)."""
    if len(values) < 3:
        return SIGMA_FLOOR
    diffs = np.diff(np.asarray(values, dtype=float))
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    return max(1.4826 * mad / math.sqrt(2), SIGMA_FLOOR)


def candidates(log_speed: Sequence[float], sigma: float, min_size: int = MIN_SEGMENT) -> list[int]:
    """PELT change points (indices where a new segment starts) for the given noise."""
    n = len(log_speed)
    if n < 2 * min_size:
        return []
    penalty = 2 * sigma**2 * math.log(n)
    signal = np.asarray(log_speed, dtype=float).reshape(-1, 1)
    ends = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(signal).predict(pen=penalty)
    return [b for b in ends if b < n]


def _snap(points: list[int], boundaries: Sequence[int]) -> list[int]:
    """Each change point moved to the nearest allowed boundary, without repeats."""
    if not boundaries:
        return []
    snapped = {min(boundaries, key=lambda b: (abs(b - p), b)) for p in points}
    return sorted(snapped)


def welch_ci(before: Sequence[float], after: Sequence[float]) -> tuple[float, float]:
    """(difference of means, 95% CI half-width) of Welch's interval, variances floored."""
    m, n = len(before), len(after)
    floor = SIGMA_FLOOR**2
    va = max(statistics.variance(before), floor) if m > 1 else floor
    vb = max(statistics.variance(after), floor) if n > 1 else floor
    se2 = va / m + vb / n
    # Welch-Satterthwaite degrees of freedom; a side of one result contributes none.
    parts = [(v / k) ** 2 / (k - 1) for v, k in ((va, m), (vb, n)) if k > 1]
    df = se2**2 / sum(parts) if parts else 1.0
    diff = statistics.fmean(after) - statistics.fmean(before)
    return diff, float(scipy_stats.t.ppf(0.975, df)) * math.sqrt(se2)


def _split_gain(x: np.ndarray, splits: np.ndarray) -> np.ndarray:
    """Cost drop of an l2 split of each row of ``x`` at each of ``splits``: k(L-k)/L gap^2."""
    length = x.shape[-1]
    left = np.cumsum(x, axis=-1)[..., splits - 1]
    total = x.sum(axis=-1, keepdims=True)
    gap = left / splits - (total - left) / (length - splits)
    return splits * (length - splits) / length * gap**2


def permutation_p(values: Sequence[float], at: int, allowed: Sequence[int], seed: int = 0) -> float:
    """p of a split of ``values`` at ``at`` when the split may be any of ``allowed``.

    Every shuffle re-chooses its best allowed split, so the search is paid for.
    """
    x = np.asarray(values, dtype=float)
    splits = np.asarray(sorted(set(allowed) | {at}))
    observed = _split_gain(x, np.asarray([at]))[0]
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.tile(x, (PERMUTATIONS, 1)), axis=1)
    best = _split_gain(shuffled, splits).max(axis=1)
    # A tiny tolerance: a shuffle equal to the observation counts as at least as extreme.
    return float((1 + np.sum(best >= observed * (1 - 1e-9))) / (1 + PERMUTATIONS))


def _segment(entries: Sequence[Entry], start: int, end: int) -> Segment:
    part = entries[start:end]
    level = median([e.throughput for e in part])
    return Segment(start, end, part[0].label, part[-1].label, len(part), level)


def _step(
    entries: Sequence[Entry], before: Segment, after: Segment, allowed: Sequence[int]
) -> Step:
    logs = [math.log(e.throughput) for e in entries[before.start : after.end]]
    k = after.start - before.start
    inner = [b - before.start for b in allowed if before.start < b < after.end]
    valid = [b for b in inner if MIN_SEGMENT <= b <= len(logs) - MIN_SEGMENT] or [k]
    p = permutation_p(logs, k, valid)
    diff, half = welch_ci(logs[:k], logs[k:])
    ci = (math.exp(diff - half), math.exp(diff + half))
    return Step(
        after.start, entries[after.start].label, after.throughput / before.throughput, ci, p
    )


def _split(
    entries: Sequence[Entry], points: Sequence[int], allowed: Sequence[int]
) -> tuple[list[Segment], list[Step]]:
    edges = [0, *points, len(entries)]
    segments = [_segment(entries, a, b) for a, b in zip(edges, edges[1:], strict=False)]
    steps = [_step(entries, a, b, allowed) for a, b in zip(segments, segments[1:], strict=False)]
    return segments, steps


def detect(series: Series, alpha: float = ALPHA, min_size: int = MIN_SEGMENT) -> History:
    """Segments and significant steps of ``series`` (see the module doc for the method)."""
    entries = series.entries
    log_speed = [math.log(e.throughput) for e in entries]
    sigma = noise_sigma(log_speed)
    points = candidates(log_speed, sigma, min_size)
    allowed = series.boundaries
    if series.by is not None:
        points = _snap(points, allowed)
    segments, steps = _split(entries, points, allowed)
    while steps and max(s.p for s in steps) >= alpha:
        weakest = max(steps, key=lambda s: s.p)
        points = [p for p in points if p != weakest.at]
        segments, steps = _split(entries, points, allowed)
    penalty = 2 * sigma**2 * math.log(max(len(entries), 2))
    return History(series, tuple(segments), tuple(steps), sigma, penalty)


def newest_regression(history: History, threshold: float, alpha: float = ALPHA) -> Step | None:
    """The step into the newest segment when it is a significant slowdown beyond ``threshold``.

    ``threshold`` is relative (0.05: the newest segment is more than 5% slower).
    """
    if not history.steps:
        return None
    last = history.steps[-1]
    if last.at != history.segments[-1].start:
        return None
    if last.p < alpha and last.ratio < 1.0 - threshold:
        return last
    return None


def exit_code(histories: Sequence[History], threshold: float, alpha: float = ALPHA) -> int:
    """1 when any configuration's newest segment is a significant regression, else 0 (for CI)."""
    return int(any(newest_regression(h, threshold, alpha) for h in histories))
