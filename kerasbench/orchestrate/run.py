"""Runs a planned suite as one resumable run: saved as it goes, stopped cleanly, resumed later.

A run stores its planned points in the results store before the first worker
starts, and each result the moment its point ends, with the point's index in
the plan. SIGINT, SIGTERM or SIGHUP kill the running worker (its whole process
group), keep every finished result, and mark the run ``interrupted``;
``resume_points`` then yields the points that still have no result. A result
that cannot be saved (a full disk) stops the run and is written to a JSON lines
file beside the store instead, so no measurement is lost silently.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kerasbench.envinfo import HostInfo
from kerasbench.orchestrate import interleave, point, procs
from kerasbench.result import Result
from kerasbench.spec import Spec, SpecError
from kerasbench.store import Store, StoreError, is_url, open_store
from kerasbench.suite import MAX_POINTS

STOP_SIGNALS = tuple(
    s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None
)
# A point (index in the run's plan, spec).
Point = tuple[int, Spec]


@dataclass
class Outcome:
    """What one pass over a run's points did."""

    run_id: str
    results: list[Result]  # saved in this pass, in order
    planned: int  # points in the run's plan
    remaining: int  # points of the plan still without a result
    stop_signal: int | None = None  # the signal that stopped the run, if one did
    save_error: str | None = None  # why a result could not be saved, if one could not
    unsaved_path: Path | None = None  # where that result went instead

    @property
    def status(self) -> str:
        """The run's status in the store: done, or interrupted (resumable)."""
        return "done" if self.remaining == 0 else "interrupted"

    @property
    def exit_code(self) -> int | None:
        """128 + the signal number when a signal stopped the run (the shell's convention)."""
        return 128 + self.stop_signal if self.stop_signal else None


def expand_repeats(specs: Sequence[Spec]) -> list[Spec]:
    """Every point ``repeats`` times, as separate points with ``repeat`` = 0, 1, ...

    The repeats go round the suite in rounds (every point once, then every point
    again), every other round in reverse order and the sides of an ``env`` axis next
    to each other (ABBA, ``interleave.rounds``), so that a slow drift of the machine
    falls on all points and both sides alike. The point limit holds after the
    expansion (checked before it is materialised).
    """
    if sum(s.repeats for s in specs) > MAX_POINTS:
        raise SpecError(f"with repeats the plan has more than {MAX_POINTS} points")
    return interleave.rounds(specs)


def begin(
    store: Store, suite: str | None, label: str, argv: list[str], host: HostInfo, specs: list[Spec]
) -> tuple[str, list[Point]]:
    """Record a new run with its plan; returns its id and its points.

    A point with ``repeats`` N is planned as N points (``expand_repeats``).
    """
    specs = expand_repeats(specs)
    run_id = store.begin_run(suite, label, argv, host.to_dict(), [s.to_dict() for s in specs])
    return run_id, list(enumerate(specs))


def find_resumable(store: Store, wanted: str | None) -> str:
    """The run to resume: ``wanted``, or the newest interrupted run in the store."""
    runs = store.runs()
    if wanted is None:
        interrupted = [r for r in runs if r.status == "interrupted"]
        if not interrupted:
            raise StoreError(f"{store.path}: no interrupted run to resume")
        return interrupted[-1].run_id
    matches = [r for r in runs if r.run_id == wanted]
    if not matches:
        known = ", ".join(r.run_id for r in runs[-5:]) or "none"
        raise StoreError(f"{store.path}: no run {wanted!r} (latest runs: {known})")
    if matches[0].status == "done":
        raise StoreError(f"{store.path}: run {wanted} is done; nothing to resume")
    return wanted


def resume_points(store: Store, run_id: str) -> list[Point]:
    """The points of ``run_id``'s plan that have no saved result yet."""
    plan = store.run_plan(run_id)
    if plan is None:
        raise StoreError(
            f"{store.path}: run {run_id} has no stored plan (saved by an older kerasbench); "
            "run its suite again instead"
        )
    done = store.finished_points(run_id)
    points = []
    for index, data in enumerate(plan):
        if index in done:
            continue
        try:
            points.append((index, Spec.from_dict(data, f"run {run_id}: point {index + 1}")))
        except SpecError as exc:  # a plan from another kerasbench version
            raise StoreError(f"{store.path}: {exc}") from None
    return points


def pending(store_path: Path | str, wanted: str | None) -> tuple[str, list[Point], int]:
    """For ``--resume``: the run to continue, its points without a result, and its plan size."""
    with open_store(store_path, create=False) as store:
        run_id = find_resumable(store, wanted)
        points = resume_points(store, run_id)
        planned = len(store.run_plan(run_id) or ())
    return run_id, points, planned


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT/SIGTERM/SIGHUP into a clean stop: kill the live workers, finish the save.

    The handler raises nothing (so a save is never cut in half); the run loop
    checks ``procs.stop_requested()``. A second signal while stopping raises
    KeyboardInterrupt, for a user who will not wait.
    """

    def handler(signum: int, frame: Any) -> None:
        if procs.stop_requested() is not None:
            raise KeyboardInterrupt
        procs.request_stop(signum)

    procs.clear_stop()
    previous: dict[int, Any] = {}
    try:
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue  # e.g. SIGHUP under nohup: the caller wants it ignored
            try:
                previous[sig] = signal.signal(sig, handler)
            except ValueError:  # not the main thread: leave signals alone
                break
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        procs.clear_stop()


def write_unsaved(store_path: Path | str, run_id: str, result: Result, index: int) -> Path | None:
    """Write a result that the store refused to a new JSON lines file; returns where, or None.

    The file is new and uniquely named (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600),
    beside the store or else in the temporary folder: a symlink or file planted
    under a predictable name in a shared /tmp is never followed or appended to.
    """
    line = json.dumps({"point_index": index, "result": result.to_dict()}) + "\n"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    # A database store has no folder of its own: its unsaved results go to the temp folder.
    name = "kerasbench-results" if is_url(store_path) else Path(store_path).name
    folders = [Path(tempfile.gettempdir())]
    if not is_url(store_path):
        folders.insert(0, Path(store_path).parent)
    for folder in folders:
        path = folder / f"{name}.unsaved-{run_id}-{uuid.uuid4().hex[:12]}.jsonl"
        try:
            fd = os.open(path, flags, 0o600)
        except OSError:
            continue
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(line)
            return path
        except OSError:
            continue
    # Nowhere to write: the record goes to stderr, where a log may still catch it.
    print(f"kerasbench: unsaved result: {line}", file=sys.stderr, end="")
    return None


def execute(
    store: Store,
    run_id: str,
    points: Sequence[Point],
    host: HostInfo,
    planned: int,
    on_result: Callable[[Result], None] | None = None,
    show_progress: bool = True,
) -> Outcome:
    """Run ``points`` of run ``run_id`` in order, saving each result at once; never raises
    for a failing point, a signal or a full disk (the Outcome says what happened)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    outcome = Outcome(run_id, [], planned, remaining=len(points))
    gpus = point.gpu_count()
    try:
        positions = interleave.round_positions(store.run_plan(run_id) or [])
    except StoreError:  # a run recorded without its plan: no places in rounds
        positions = {}
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show_progress,
    )
    try:
        with stop_on_signals(), progress:
            task = progress.add_task("starting", total=len(points))
            for index, spec in points:
                if procs.stop_requested() is not None:
                    break
                progress.update(task, description=f"{spec.model} {spec.backend} {spec.mode}")
                result = point.run_point(spec, host, run_id, gpus)
                # Its place in the round (see interleave): known here, from the run's plan.
                result = dataclasses.replace(result, round_position=positions.get(index))
                # A worker that ended because we killed it has no result worth keeping;
                # its point stays pending and runs again on resume.
                if procs.stop_requested() is not None and result.status not in ("ok", "skipped"):
                    break
                try:
                    store.save(result, point_index=index)
                except StoreError as exc:
                    outcome.save_error = str(exc)
                    outcome.unsaved_path = write_unsaved(store.path, run_id, result, index)
                    break
                outcome.results.append(result)
                outcome.remaining -= 1
                if on_result:
                    on_result(result)
                progress.advance(task)
            outcome.stop_signal = procs.stop_requested()
    finally:  # also after a second Ctrl-C: the run is marked resumable
        try:
            store.end_run(run_id, outcome.status)
        except StoreError:
            pass  # the disk is still full; the run stays "running", resumable by its id
    return outcome


def resume_hint(store_path: Path | str, run_id: str) -> str:
    return f"kerasbench run --resume {run_id} --results {store_path}"
