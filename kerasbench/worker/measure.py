"""Timing: the first step on its own, untimed warm-up, then timed windows.

The device is synchronised only at window edges. ``train_on_batch`` returns
host values, so each of its steps already ends synchronised (that is the API's
own cost, which a user of it pays too); ``fit`` and ``predict`` run Keras' own
loop, and a callback notes when each batch's outputs reach the host.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kerasbench.spec import Spec


@dataclass
class Timing:
    """Raw timings of one point, in seconds."""

    time_to_first_step_s: float  # from the start of model building to the first step done
    first_step_s: float  # the first step alone (compilation, tracing, allocation)
    window_times_s: list[float] = field(default_factory=list)


def n_windows(spec: Spec) -> int:
    return math.ceil(spec.steps / spec.window_steps)


def total_steps(spec: Spec) -> int:
    """Every step a worker runs: the first, the warm-up, and the timed windows."""
    return 1 + spec.warmup + n_windows(spec) * spec.window_steps


def time_step_loop(step: Callable[[int], Any], spec: Spec, build_started: float) -> Timing:
    """Time ``step(i)``, which must return only when step ``i`` is done on the device."""
    started = time.perf_counter()
    step(0)
    first_done = time.perf_counter()
    for i in range(1, 1 + spec.warmup):
        step(i)
    windows = []
    i = 1 + spec.warmup
    for _ in range(n_windows(spec)):
        start = time.perf_counter()
        for _ in range(spec.window_steps):
            step(i)
            i += 1
        windows.append(time.perf_counter() - start)
    return Timing(first_done - build_started, first_done - started, windows)


def window_edges(spec: Spec) -> list[int]:
    """Batch indices after which the device is synchronised and the clock read."""
    first_edge = spec.warmup  # the last untimed batch (batch 0 is the first step)
    return [0] + [first_edge + j * spec.window_steps for j in range(n_windows(spec) + 1)]


def batch_clock(total: int, batches_per_epoch: int, edges: list[int]) -> Any:
    """A Keras callback that reads the clock at window edges, synchronised, in Keras' own loop.

    Keras converts each batch's logs to Python numbers on its callback thread
    (that returns when the batch is done on the device) and only then calls
    ``on_*_batch_end`` there; the callback marks the batch done. At a window
    edge, ``on_*_batch_begin`` of the next batch, which Keras calls on the main
    thread, waits for that mark and reads the clock. So the loop waits for the
    device only at window edges, as a user's ``fit`` without callbacks would
    not wait at all; between edges Keras dispatches as usual.
    """
    import threading

    import keras  # here, so that importing this module does not import Keras

    edge_set = set(edges)

    class BatchClock(keras.callbacks.Callback):
        async_safe = True  # lets Keras keep dispatching batch ends on its thread

        def __init__(self) -> None:
            super().__init__()
            self.offset = 0  # batches completed in earlier epochs or predict calls
            self.times: dict[int, float] = {}
            self._done: dict[int, threading.Event] = {}
            self._lock = threading.Lock()

        def _event(self, index: int) -> threading.Event:
            with self._lock:
                return self._done.setdefault(index, threading.Event())

        def _begin(self, batch: int) -> None:
            index = self.offset + batch
            if index - 1 in edge_set:
                self._event(index - 1).wait()
                self.times[index - 1] = time.perf_counter()
            if index + 1 >= total and self.model is not None:
                self.model.stop_training = True  # Keras stops after this batch

        def _end(self, batch: int) -> None:
            self._event(self.offset + batch).set()

        def _finish(self) -> None:
            last = total - 1
            if last in edge_set and last not in self.times and last in self._done:
                self._done[last].wait()
                self.times[last] = time.perf_counter()

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
    times: dict[int, float], spec: Spec, build_started: float, loop_started: float
) -> Timing:
    """Windows between the clock readings at consecutive window edges."""
    edges = window_edges(spec)
    missing = [e for e in edges if e not in times]
    if missing:
        raise RuntimeError(f"Keras ran fewer batches than asked (batch {missing[0]} missing)")
    timed = edges[1:]
    windows = [times[b] - times[a] for a, b in zip(timed, timed[1:], strict=False)]
    return Timing(times[0] - build_started, times[0] - loop_started, windows)


def time_fit(model: Any, x: np.ndarray, y: np.ndarray, spec: Spec, build_started: float) -> Timing:
    """Time ``model.fit`` over in-memory arrays; the arrays cycle as epochs if short."""
    total = total_steps(spec)
    per_epoch = len(x) // spec.batch_size
    clock = batch_clock(total, per_epoch, window_edges(spec))
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
    return timing_from_clock(clock.times, spec, build_started, started)


def time_predict(model: Any, x: np.ndarray, spec: Spec, build_started: float) -> Timing:
    """Time ``model.predict`` over in-memory arrays, calling it again while short."""
    total = total_steps(spec)
    per_call = len(x) // spec.batch_size
    clock = batch_clock(total, per_call, window_edges(spec))
    started = time.perf_counter()
    for call in range(math.ceil(total / per_call)):
        clock.offset = call * per_call
        remaining = min(per_call, total - clock.offset)
        model.predict(
            x[: remaining * spec.batch_size],
            batch_size=spec.batch_size,
            verbose=0,
            callbacks=[clock],
        )
    return timing_from_clock(clock.times, spec, build_started, started)
