"""The host's own speed during two sets of results, from the probes stored with each point.

Every point is bracketed by two runs of ``kerasbench.probe`` (``probe_before`` and
``probe_after``); a side's figure is the median over its points of the slower probe
of each bracket (``probe.bracket``). ``host_speed_line`` says in one sentence how
fast the host ran during NEW relative to BASE, when the probes differ by more than
the tolerance: a slowdown of NEW that the host shared is then visible as such.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from kerasbench import probe
from kerasbench.result import Result

TOLERANCE = 0.05


def side_probe(results: Sequence[Result]) -> probe.ProbeFigures | None:
    """The median bracketed probe of a side's points, or None when none has both probes."""
    brackets = []
    for r in results:
        if r.probe_before and r.probe_after:
            try:
                before = probe.ProbeFigures.from_dict(r.probe_before)
                after = probe.ProbeFigures.from_dict(r.probe_after)
            except (KeyError, TypeError, ValueError):
                continue
            if before.version == after.version == probe.PROBE_VERSION:
                brackets.append(probe.bracket(before, after))
    if not brackets:
        return None
    return probe.ProbeFigures(
        statistics.median(b.gflops for b in brackets),
        statistics.median(b.gbps for b in brackets),
        statistics.median(b.seconds for b in brackets),
    )


def host_speed_line(
    base: Sequence[Result], new: Sequence[Result], name: str = "NEW", tolerance: float = TOLERANCE
) -> str | None:
    """'this host ran 18% slower during NEW (...)' when the probes differ beyond tolerance."""
    before, during = side_probe(base), side_probe(new)
    if before is None or during is None:
        return None
    change = probe.drift(before, during)
    if max(change.compute, change.memory) <= 1 + tolerance and change.slowest >= 1 - tolerance:
        return None
    return probe.describe(change, name, tolerance)
