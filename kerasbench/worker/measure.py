"""Timing: the first step on its own, untimed warm-up, then timed windows.

The device is synchronised only at window edges. ``train_on_batch`` returns
host values, so each of its steps already ends synchronised (that is the API's
own cost, which a user of it pays too); ``fit`` and ``predict`` run Keras' own
loop, and a callback notes when each batch's outputs reach the host.

How many windows: a fixed count (``steps``), or, with ``target_ci`` set,
windows are added until the 95% CI of the median is narrow enough or
``max_time`` seconds of timed windows have passed (``kerasbench.stats.StopRule``);
the reason is returned as ``stop_reason``. The rule is applied between
windows, and the time it takes is in no window.

A point may stop on its target CI only after ``min_timed_s`` seconds of timed
windows as well as ``min_windows`` windows: min(2 s, ``max_time``). Five quiet
windows of 0.1 s can give a narrow interval by luck (a machine that drifts
over seconds shows no drift in half of one), and a regression gate must not
rest on them. The minimum is recorded in the result's settings.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kerasbench.spec import Spec
from kerasbench.stats import MIN_TIMED_S, StopRule

# Safety cap on windows when measuring to a target CI (the time limit normally ends it first).
ADAPTIVE_MAX_WINDOWS = 10_000


@dataclass
class Timing:
    """Raw timings of one point, in seconds."""

    time_to_first_step_s: float  # from the start of model building to the first step done
    first_step_s: float  # the first step alone (compilation, tracing, allocation)
    window_times_s: list[float] = field(default_factory=list)
    stop_reason: str = "steps"


def n_windows(spec: Spec) -> int:
    return math.ceil(spec.steps / spec.window_steps)


def adaptive(spec: Spec) -> bool:
    """Whether this point measures to a target CI.

    Not for data-parallel points (several devices or hosts): where several
    processes run one point (torchrun, several hosts), each would decide on its
    own windows and one could stop while another waits in a collective; they
    run the fixed count.
    """
    return spec.target_ci > 0 and spec.devices == 1 and getattr(spec, "num_hosts", 1) == 1


def max_windows(spec: Spec) -> int:
    """The most windows this point can run."""
    return ADAPTIVE_MAX_WINDOWS if adaptive(spec) else n_windows(spec)


def stop_rule(spec: Spec) -> StopRule:
    """The rule that ends this point's timed windows."""
    return StopRule(
        fixed_windows=n_windows(spec),
        target_ci=spec.target_ci if adaptive(spec) else 0.0,
        max_time=spec.max_time,
        min_windows=spec.min_windows,
        min_time=min_timed_s(spec),
        max_windows=ADAPTIVE_MAX_WINDOWS,
    )


def min_timed_s(spec: Spec) -> float:
    """Timed seconds before a target-CI point may stop on its CI: min(2 s, max_time)."""
    return min(MIN_TIMED_S, spec.max_time) if spec.max_time > 0 else MIN_TIMED_S


def stop_settings(spec: Spec) -> dict[str, float]:
    """What the result records about the stopping rule beyond the Spec (nothing when fixed)."""
    return {"min_timed_s": min_timed_s(spec)} if adaptive(spec) else {}


def total_steps(spec: Spec) -> int:
    """Every step a worker runs with a fixed count: the first, the warm-up, the timed windows.

    With a target CI this is the count the synthetic data is sized for (the
    batches cycle); the run itself may be shorter or longer.
    """
    return 1 + spec.warmup + n_windows(spec) * spec.window_steps


def time_step_loop(
    step: Callable[[int], Any],
    spec: Spec,
    build_started: float,
    clock: Callable[[], float] | None = None,
) -> Timing:
    """Time ``step(i)``, which must return only when step ``i`` is done on the device.

    The stopping rule is checked between windows, outside the timed part.
    """
    clock = clock or time.perf_counter
    rule = stop_rule(spec)
    started = clock()
    step(0)
    first_done = clock()
    for i in range(1, 1 + spec.warmup):
        step(i)
    windows: list[float] = []
    i = 1 + spec.warmup
    timed = 0.0
    while True:
        start = clock()
        for _ in range(spec.window_steps):
            step(i)
            i += 1
        windows.append(clock() - start)
        timed += windows[-1]
        reason = rule.decide([w / spec.window_steps for w in windows], timed)
        if reason:
            break
    return Timing(first_done - build_started, first_done - started, windows, reason)


def window_edges(spec: Spec) -> list[int]:
    """Batch indices after which the device is synchronised and the clock read."""
    first_edge = spec.warmup  # the last untimed batch (batch 0 is the first step)
    return [0] + [first_edge + j * spec.window_steps for j in range(n_windows(spec) + 1)]


def is_edge(index: int, spec: Spec) -> bool:
    """Whether batch ``index`` ends a window (or the first step, or the warm-up)."""
    past = index - spec.warmup
    return index == 0 or (past >= 0 and past % spec.window_steps == 0)


def batch_clock(total: int, batches_per_epoch: int, spec: Spec) -> Any:
    """A Keras callback that reads the clock at window edges, synchronised, in Keras' own loop.

    Keras converts each batch's logs to Python numbers on its callback thread
    (that returns when the batch is done on the device) and only then calls
    ``on_*_batch_end`` there; the callback marks the batch done. At a window
    edge, ``on_*_batch_begin`` of the next batch, which Keras calls on the main
    thread, waits for that mark and reads the clock. So the loop waits for the
    device only at window edges, as a user's ``fit`` without callbacks would
    not wait at all; between edges Keras dispatches as usual.

    At each edge that ends a window the stopping rule decides; when it says
    stop, Keras stops after the batch it is starting (untimed). The clock is
    read again after the decision (``starts``), so the rule's own time is in
    no window. ``total`` caps the batches when the rule never says stop.
    """
    import threading

    import keras  # here, so that importing this module does not import Keras

    rule = stop_rule(spec)

    class BatchClock(keras.callbacks.Callback):
        async_safe = True  # lets Keras keep dispatching batch ends on its thread

        def __init__(self) -> None:
            super().__init__()
            self.offset = 0  # batches completed in earlier epochs or predict calls
            self.times: dict[int, float] = {}  # edge -> when its batch was done
            self.starts: dict[int, float] = {}  # edge -> when the next window started
            self.stop_reason: str | None = None
            self.n_windows = 0
            self._done: dict[int, threading.Event] = {}
            self._lock = threading.Lock()

        def _event(self, index: int) -> threading.Event:
            with self._lock:
                return self._done.setdefault(index, threading.Event())

        def _read_edge(self, edge: int) -> None:
            self._event(edge).wait()
            self.times[edge] = time.perf_counter()
            if self.stop_reason is None and edge >= spec.warmup + spec.window_steps:
                windows = self.windows(edge)
                timed = self.times[edge] - self.starts[spec.warmup]
                reason = rule.decide([w / spec.window_steps for w in windows], timed)
                if reason:
                    self.stop_reason, self.n_windows = reason, len(windows)
                    self._stop()
            self.starts[edge] = time.perf_counter()

        def windows(self, last_edge: int) -> list[float]:
            edges = range(spec.warmup, last_edge + 1, spec.window_steps)
            return [self.times[b] - self.starts[a] for a, b in zip(edges, edges[1:], strict=False)]

        def _stop(self) -> None:
            if self.model is not None:  # Keras stops after the batch it is running
                self.model.stop_training = True
                self.model.stop_predicting = True

        def _begin(self, batch: int) -> None:
            index = self.offset + batch
            if is_edge(index - 1, spec) and index - 1 not in self.times:
                self._read_edge(index - 1)
            if index + 1 >= total:
                self._stop()

        def _end(self, batch: int) -> None:
            self._event(self.offset + batch).set()

        def _finish(self) -> None:
            with self._lock:
                last = max((i for i, e in self._done.items() if e.is_set()), default=-1)
            if last >= 0 and is_edge(last, spec) and last not in self.times:
                self._read_edge(last)

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.offset = epoch * batches_per_epoch

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            self._begin(batch)

        def on_predict_batch_begin(self, batch: int, logs: Any = None) -> None:
            self._begin(batch)

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self._end(batch)

        def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
            self._end(batch)

        def on_train_end(self, logs: Any = None) -> None:
            self._finish()

        def on_predict_end(self, logs: Any = None) -> None:
            self._finish()

    return BatchClock()


def timing_from_clock(
    times: dict[int, float],
    spec: Spec,
    build_started: float,
    loop_started: float,
    starts: dict[int, float] | None = None,
    windows: int | None = None,
    stop_reason: str = "steps",
) -> Timing:
    """Windows between the clock readings at consecutive window edges.

    A window runs from the reading after its first edge (``starts``, by default
    the same readings) to the reading at its last edge; ``windows`` defaults to
    the fixed count of the spec.
    """
    starts = starts or times
    count = n_windows(spec) if windows is None else windows
    edges = [0] + [spec.warmup + j * spec.window_steps for j in range(count + 1)]
    missing = [e for e in edges if e not in times]
    if missing:
        raise RuntimeError(f"Keras ran fewer batches than asked (batch {missing[0]} missing)")
    timed = edges[1:]
    windows_s = [times[b] - starts[a] for a, b in zip(timed, timed[1:], strict=False)]
    return Timing(times[0] - build_started, times[0] - loop_started, windows_s, stop_reason)


def clock_timing(clock: Any, spec: Spec, build_started: float, loop_started: float) -> Timing:
    """The timing a batch clock recorded; a run that hit the cap counts its whole windows."""
    if clock.stop_reason is None:
        last = max(clock.times, default=-1)
        clock.n_windows = max(0, (last - spec.warmup) // spec.window_steps)
        clock.stop_reason = "max_windows" if adaptive(spec) else "steps"
    return timing_from_clock(
        clock.times,
        spec,
        build_started,
        loop_started,
        clock.starts,
        clock.n_windows,
        clock.stop_reason,
    )


def rows(x: Any) -> int:
    """Samples in ``x``: an array, or a dict of arrays (a Keras Hub task's or a user's inputs)."""
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def take(x: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of an array or of every array of a dict."""
    if isinstance(x, dict):
        return {k: v[start:stop] for k, v in x.items()}
    return x[start:stop]


def time_fit(model: Any, x: Any, y: Any, spec: Spec, build_started: float) -> Timing:
    """Time ``model.fit`` over in-memory arrays; the arrays cycle as epochs if short."""
    total = 1 + spec.warmup + max_windows(spec) * spec.window_steps
    per_epoch = rows(x) // spec.batch_size
    clock = batch_clock(total, per_epoch, spec)
    started = time.perf_counter()
    model.fit(
        x,
        y,
        batch_size=spec.batch_size,
        epochs=math.ceil(total / per_epoch),
        shuffle=False,
        verbose=0,
        callbacks=[clock],
    )
    return clock_timing(clock, spec, build_started, started)


def time_predict(model: Any, x: Any, spec: Spec, build_started: float) -> Timing:
    """Time ``model.predict`` over in-memory arrays, calling it again while short."""
    total = 1 + spec.warmup + max_windows(spec) * spec.window_steps
    per_call = rows(x) // spec.batch_size
    clock = batch_clock(total, per_call, spec)
    started = time.perf_counter()
    for call in range(math.ceil(total / per_call)):
        if clock.stop_reason is not None:
            break
        clock.offset = call * per_call
        remaining = min(per_call, total - clock.offset)
        model.predict(
            take(x, 0, remaining * spec.batch_size),
            batch_size=spec.batch_size,
            verbose=0,
            callbacks=[clock],
        )
    return clock_timing(clock, spec, build_started, started)
