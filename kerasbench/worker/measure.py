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


def batch_clock(total: int, batches_per_epoch: int) -> Any:
    """A Keras callback that records when each batch's logs reach the host.

    It declares itself ``async_safe`` so that Keras dispatches it on its
    callback thread exactly as it dispatches its own History callback: the
    training loop is not made to wait for the device after every step. The
    callback thread converts each batch's logs to Python numbers (Keras does
    that before calling any callback), which returns when that batch is done,
    so the timestamp is the batch's completion seen from the host. After
    ``total`` batches it stops training, so cycled epochs never overrun.
    """
    import keras  # here, so that importing this module does not import Keras

    class BatchClock(keras.callbacks.Callback):
        async_safe = True

        def __init__(self) -> None:
            super().__init__()
            self.offset = 0  # batches completed in earlier epochs or predict calls
            self.times: dict[int, float] = {}

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.offset = epoch * batches_per_epoch

        def _done(self, batch: int) -> None:
            index = self.offset + batch
            self.times[index] = time.perf_counter()
            if index + 1 >= total:
                self.model.stop_training = True

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self._done(batch)

        def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
            self._done(batch)

    return BatchClock()


def timing_from_clock(
    times: dict[int, float], spec: Spec, build_started: float, loop_started: float
) -> Timing:
    """Windows between batch-completion times at the window edges."""
    first_edge = spec.warmup  # index of the last untimed batch
    edges = [first_edge + j * spec.window_steps for j in range(n_windows(spec) + 1)]
    missing = [e for e in edges + [0] if e not in times]
    if missing:
        raise RuntimeError(f"Keras ran fewer batches than asked (batch {missing[0]} missing)")
    windows = [times[b] - times[a] for a, b in zip(edges, edges[1:], strict=False)]
    return Timing(times[0] - build_started, times[0] - loop_started, windows)


def time_fit(model: Any, x: np.ndarray, y: np.ndarray, spec: Spec, build_started: float) -> Timing:
    """Time ``model.fit`` over in-memory arrays; the arrays cycle as epochs if short."""
    total = total_steps(spec)
    per_epoch = len(x) // spec.batch_size
    clock = batch_clock(total, per_epoch)
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
    clock = batch_clock(total, per_call)
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
