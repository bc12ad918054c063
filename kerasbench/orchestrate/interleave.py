"""Interleaved A/B: points run in rounds whose order alternates (ABBA), and paired ratios.

This machine drifts 10-25% over minutes, so two environments (or labels, or any
other axis) measured one after the other differ by the drift as much as by what
changed. A run with ``--repeats N`` runs N rounds; each round runs every point once,
the sides of one configuration (points that differ only in ``env``) next to each
other, and every other round in reverse: A B | B A | A B | B A. A slow drift then
falls on both sides alike, and each round gives one paired ratio NEW/BASE measured
minutes apart at most. ``paired`` turns the rounds of one run into per-round ratios,
their median, a 95% interval and a p-value (one-sample t on the log ratios: with 4
rounds a rank test cannot reach p < 0.05 at all), which ``compare`` prefers to the
unpaired test whenever both sides were interleaved in one run.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kerasbench.result import Result
from kerasbench.spec import Spec


def _sides(specs: Sequence[Spec]) -> list[Spec]:
    """``specs`` with the points that differ only in ``env`` next to each other."""
    groups: dict[Spec, list[Spec]] = {}
    for spec in specs:
        groups.setdefault(dataclasses.replace(spec, env=""), []).append(spec)
    return [s for group in groups.values() for s in group]


def rounds(specs: Sequence[Spec]) -> list[Spec]:
    """Every point ``repeats`` times (``repeat`` = the round), odd rounds in reverse (ABBA)."""
    ordered = _sides(specs)
    count = max((s.repeats for s in ordered), default=0)
    plan = []
    for r in range(count):
        this = [dataclasses.replace(s, repeat=r) for s in ordered if r < s.repeats]
        plan += this if r % 2 == 0 else this[::-1]
    return plan


def round_positions(plan: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """Each planned point's place in its round (its index among the points of that round)."""
    seen: dict[Any, int] = {}
    positions = {}
    for index, spec in enumerate(plan):
        r = spec.get("repeat", 0)
        positions[index] = seen.get(r, 0)
        seen[r] = positions[index] + 1
    return positions


@dataclass(frozen=True)
class Paired:
    """One configuration's per-round NEW/BASE throughput ratios from an interleaved run."""

    key: str  # the configuration (point_key with the side's axis blanked)
    title: str
    ratios: tuple[float, ...]
    ratio: float  # median
    ci: tuple[float, float] | None  # 95%, t on the log ratios; None below 2 rounds
    p: float | None  # one-sample t on the log ratios; None below 2 rounds


def _t_ci(logs: Sequence[float]) -> tuple[float, float] | None:
    from scipy import stats

    if len(logs) < 2:
        return None
    mean, sd = statistics.fmean(logs), statistics.stdev(logs)
    half = stats.t.ppf(0.975, len(logs) - 1) * sd / math.sqrt(len(logs))
    return math.exp(mean - half), math.exp(mean + half)


def _p(logs: Sequence[float]) -> float | None:
    from scipy import stats

    if len(logs) < 2:
        return None
    if statistics.pstdev(logs) < 1e-12:  # identical ratios: certain, unless there is no change
        return 1.0 if logs[0] == 0 else 0.0
    return float(stats.ttest_1samp(logs, 0.0).pvalue)


def paired(base: Sequence[Result], new: Sequence[Result], blank: str) -> list[Paired]:
    """Per-round ratios of the configurations both sides ran in the same rounds of one run.

    ``blank`` is the field that tells the sides apart (``env`` or ``label``); results
    are matched on their configuration with that field blanked, their run and round.
    """

    def key(r: Result) -> str:
        return dataclasses.replace(r, **{blank: ""}).point_key

    def table(side: Sequence[Result]) -> dict[tuple[str, str, int], float]:
        found = {}
        for r in side:
            if r.status == "ok" and r.samples_per_sec and r.round_index is not None and r.run_id:
                found[(key(r), r.run_id, r.round_index)] = r.samples_per_sec
        return found

    before, after = table(base), table(new)
    by_key: dict[str, list[float]] = {}
    for k, speed in before.items():
        if k in after:
            by_key.setdefault(k[0], []).append(after[k] / speed)
    titles = {key(r): f"{r.model} {r.backend} {r.mode} batch {r.batch_size}" for r in base}
    found = []
    for k, ratios in by_key.items():
        logs = [math.log(v) for v in ratios]
        found.append(
            Paired(k, titles[k], tuple(ratios), statistics.median(ratios), _t_ci(logs), _p(logs))
        )
    return found


def paired_lines(pairs: Sequence[Paired], threshold: float, alpha: float) -> list[str]:
    """Lines for compare: per configuration the paired ratio, its interval and verdict."""
    lines = []
    for p in pairs:
        ci = f"95% CI {p.ci[0]:.3f}..{p.ci[1]:.3f}" if p.ci else "no CI below 2 rounds"
        verdict = paired_verdict(p, threshold, alpha)
        pv = f", p={p.p:.3g}" if p.p is not None else ""
        lines.append(
            f"  paired over {len(p.ratios)} interleaved rounds: {p.title}: NEW/BASE "
            f"{p.ratio:.3f} ({ci}{pv}) -> {verdict}"
        )
    return lines


def paired_verdict(p: Paired, threshold: float, alpha: float) -> str:
    if p.p is None or p.ci is None or p.p >= alpha:
        return "no significant change"
    if p.ci[1] < 1 - threshold or (p.ratio < 1 - threshold and p.ci[1] < 1):
        return "regression"
    if p.ci[0] > 1 + threshold or (p.ratio > 1 + threshold and p.ci[0] > 1):
        return "improvement"
    return "no change beyond the threshold"
