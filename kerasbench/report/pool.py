"""Pooling repeats: the results of one point from several worker processes, as one row.

``kerasbench run --repeats N`` measures each point in N fresh processes. A
report shows one row per point: the median over every window of every
process, a CI from the two-level bootstrap of ``kerasbench.stats.PooledStats``,
and the two spreads apart: between processes (CV of the per-process medians)
and within a process (median of the per-process CVs).
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from typing import Any

from kerasbench.result import Result
from kerasbench.stats import PooledStats

# Steal time (see Result.cpu_steal_fraction) from which a report warns about a point.
STEAL_NOTE = 0.02


def step_times_s(result: Result) -> list[float]:
    """Per-step time of each timed window of ``result``."""
    k = result.window_steps or 1
    return [w / k for w in result.window_times_s]


def pool(group: Sequence[Result]) -> Result:
    """One Result standing for ``group`` (the same point, several processes)."""
    ok = [r for r in group if r.status == "ok" and r.window_times_s]
    if len(ok) < 2:
        return ok[0] if ok else group[0]
    stats = PooledStats.of([step_times_s(r) for r in ok])
    first = ok[0]
    batch = first.batch_size
    windows = tuple(w for r in ok for w in r.window_times_s)
    per_step = [t for r in ok for t in step_times_s(r)]
    sps = batch / stats.median_s
    low, high = stats.ci_low_s, stats.ci_high_s

    def med(name: str) -> float | None:
        values = [getattr(r, name) for r in ok if getattr(r, name) is not None]
        return statistics.median(values) if values else None

    def max_or_none(name: str) -> Any:
        values = [getattr(r, name) for r in ok if getattr(r, name) is not None]
        return max(values) if values else None

    settled = [r.settled for r in ok if r.settled is not None]
    achieved = None
    if first.flops_per_step:
        achieved = first.flops_per_step / stats.median_s / 1e12
    return dataclasses.replace(
        first,
        window_times_s=windows,
        n_windows=stats.n_windows,
        steps_measured=sum(r.steps_measured or 0 for r in ok),
        step_time_ms=stats.median_s * 1e3,
        step_time_ci_ms=None if low is None else (low * 1e3, high * 1e3),
        step_time_cv=statistics.stdev(per_step) / statistics.fmean(per_step),
        samples_per_sec=sps,
        samples_per_sec_ci=None if low is None else (batch / high, batch / low),
        time_to_first_step_s=med("time_to_first_step_s"),
        compile_time_s=med("compile_time_s"),
        peak_host_memory_bytes=max_or_none("peak_host_memory_bytes"),
        peak_device_memory_bytes=max_or_none("peak_device_memory_bytes"),
        first_window_ratio=med("first_window_ratio"),
        first_window_step_ms=med("first_window_step_ms"),
        settled=all(settled) if settled else None,
        stop_reason=",".join(sorted({r.stop_reason for r in ok if r.stop_reason})) or None,
        achieved_tflops=achieved,
        mfu=achieved / first.peak_tflops if achieved and first.peak_tflops else None,
        duration_s=sum(r.duration_s or 0.0 for r in ok),
        cpu_steal_fraction=max_or_none("cpu_steal_fraction"),
        repeats_pooled=stats.n_processes,
        between_process_cv=stats.between_cv,
        within_process_cv=stats.within_cv,
    )


def pool_repeats(results: Sequence[Result]) -> list[Result]:
    """Results with the repeats of each point in each run merged into one, in first-seen order."""
    groups: dict[tuple[str, str | None, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.label, r.run_id, r.point_key), []).append(r)
    return [pool(g) for g in groups.values()]


def spread_notes(results: Sequence[Result]) -> list[str]:
    """One line per pooled or unsettled point: between- and within-process spread, drift."""
    notes = []
    for r in results:
        where = f"{r.model} {r.mode} on {r.backend}" + (f" in {r.env}" if r.env else "")
        if r.repeats_pooled and r.between_process_cv is not None:
            notes.append(
                f"{where}: {r.repeats_pooled} processes; spread between processes "
                f"{r.between_process_cv:.1%}, within a process {r.within_process_cv:.1%} (CV)"
            )
        if r.mfu is not None and r.mfu > 1:
            notes.append(
                f"{where}: MFU {r.mfu:.0%} exceeds the cached matmul peak, which was likely "
                "measured on a busy machine; delete peak_flops.json in $KERASBENCH_CACHE "
                "(default ~/.cache/kerasbench) to measure it again"
            )
        if r.cpu_steal_fraction is not None and r.cpu_steal_fraction >= STEAL_NOTE:
            notes.append(
                f"{where}: the hypervisor gave {r.cpu_steal_fraction:.0%} of this machine's CPU "
                "time to other tenants while it ran (steal time), so its speed depends on "
                "their load and may not repeat"
            )
        if r.settled is False:
            notes.append(
                f"{where}: never settled (step time drifted {r.drift:+.1%} over the last "
                f"half of its windows)"
            )
    return notes
