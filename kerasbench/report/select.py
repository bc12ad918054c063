"""Which stored results a report shows: the filters every format shares, and the runs behind them.

Every format (table, Markdown, CSV, JSON, HTML, PNG) reads the same selection:
``--label``, ``--run``, ``--models``, ``--backends``, ``--since`` and ``--all``.
``--compare BASE`` adds a second selection, the baseline, matched point by point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from kerasbench.result import Result
from kerasbench.store import RunInfo, Store


def parse_since(text: str) -> datetime:
    """An ISO date or date-time as an aware datetime; a time without a zone is UTC.

    Raises ValueError with a message naming the text when it is not ISO 8601.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read "Z"
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"--since: {text!r} is not an ISO date or date-time (e.g. 2026-11-28 or "
            "2026-11-28T20:00:00+00:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _started(result: Result) -> datetime | None:
    if not result.started_at:
        return None
    try:
        return parse_since(result.started_at)
    except ValueError:
        return None


def since_filter(results: Sequence[Result], since: datetime | None) -> list[Result]:
    """Results started at or after ``since``; one without a start time cannot be shown to be."""
    if since is None:
        return list(results)
    kept = []
    for r in results:
        started = _started(r)
        if started is not None and started >= since:
            kept.append(r)
    return kept


@dataclass(frozen=True)
class Query:
    """The filters of a report, as the command line gives them."""

    label: str | None = None
    run_id: str | None = None
    models: Sequence[str] | None = None
    backends: Sequence[str] | None = None
    since: datetime | None = None
    latest: bool = True  # newest result of each point only (``--all`` turns it off)
    compare: str | None = None  # baseline: a label or a run id

    def describe(self) -> list[str]:
        """The filters in force, as "name: value" lines for a report's header."""
        lines = []
        if self.label is not None:
            lines.append(f"label: {self.label}")
        if self.run_id is not None:
            lines.append(f"run: {self.run_id}")
        if self.models:
            lines.append(f"models: {', '.join(self.models)}")
        if self.backends:
            lines.append(f"backends: {', '.join(self.backends)}")
        if self.since is not None:
            lines.append(f"since: {self.since.isoformat()}")
        lines.append("every result" if not self.latest else "newest result of each point")
        if self.compare is not None:
            lines.append(f"compared with: {self.compare}")
        return lines


@dataclass(frozen=True)
class Selection:
    """What a report shows: the results, the runs they came from, and the baseline."""

    results: list[Result]
    runs: list[RunInfo] = field(default_factory=list)  # the runs of ``results`` and ``base``
    base: list[Result] = field(default_factory=list)  # empty unless the query compares


def _is_base(result: Result, base: str) -> bool:
    return result.label == base or result.run_id == base


def select(store: Store, query: Query) -> Selection:
    """Read the results a query names, and with ``compare``, its baseline, from a store.

    The baseline is the results whose label or run id is ``query.compare`` (the
    model and backend filters apply to it, the date filter does not: a baseline
    is usually older). Without ``--label`` or ``--run``, the baseline's own
    results are left out of the current side.
    """
    results = store.results(
        label=query.label,
        run_id=query.run_id,
        models=query.models,
        backends=query.backends,
        latest=query.latest,
    )
    results = since_filter(results, query.since)
    base: list[Result] = []
    if query.compare is not None:
        everything = store.results(models=query.models, backends=query.backends, latest=False)
        base = [r for r in everything if _is_base(r, query.compare)]
        if query.latest:
            newest: dict[str, Result] = {}
            for r in base:
                newest.pop(r.point_key, None)
                newest[r.point_key] = r
            base = list(newest.values())
        if query.label is None and query.run_id is None:
            results = [r for r in results if not _is_base(r, query.compare)]
    run_ids = {r.run_id for r in (*results, *base) if r.run_id}
    runs = [run for run in store.runs() if run.run_id in run_ids]
    return Selection(results, runs, base)
