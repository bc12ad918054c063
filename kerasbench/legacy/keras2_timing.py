"""Timing in the legacy worker: the rules of ``kerasbench.worker.measure`` for Keras 2.

The first step on its own, untimed warm-up, then timed windows with the device
synchronised at their edges. ``train_on_batch`` returns host numbers, so each
step ends synchronised; ``fit`` (and tf-keras' ``predict``) is timed by a
callback that waits for the edge batch's logs on the host and reads the clock;
Keras 2.2.4's ``predict`` takes no callbacks, so there each window is one
``predict`` call over the window's batches (which returns host arrays).
Python 3.7 compatible; imports nothing of kerasbench.
"""

import math
import time


def n_windows(spec):
    return int(math.ceil(spec["steps"] / float(spec["window_steps"])))


def total_steps(spec):
    """Every step: the first, the warm-up, and the timed windows."""
    return 1 + spec["warmup"] + n_windows(spec) * spec["window_steps"]


class Timing:
    def __init__(self, time_to_first_step_s, first_step_s, window_times_s):
        self.time_to_first_step_s = time_to_first_step_s
        self.first_step_s = first_step_s
        self.window_times_s = window_times_s


def time_step_loop(step, spec, build_started):
    """Time ``step(i)``, which returns only when step ``i`` is done."""
    started = time.perf_counter()
    step(0)
    first_done = time.perf_counter()
    for i in range(1, 1 + spec["warmup"]):
        step(i)
    windows = []
    i = 1 + spec["warmup"]
    for _ in range(n_windows(spec)):
        start = time.perf_counter()
        for _ in range(spec["window_steps"]):
            step(i)
            i += 1
        windows.append(time.perf_counter() - start)
    return Timing(first_done - build_started, first_done - started, windows)


def window_edges(spec):
    """Batch indices after which the clock is read: the first step, then each window edge."""
    first_edge = spec["warmup"]  # the last untimed batch (batch 0 is the first step)
    return [0] + [first_edge + j * spec["window_steps"] for j in range(n_windows(spec) + 1)]


def _sync(logs):
    """Wait for a batch's outputs by reading its logs on the host (Keras 2.2.4: already numbers)."""
    for value in (logs or {}).values():
        if hasattr(value, "numpy"):
            value.numpy()


def batch_clock(keras, total, batches_per_epoch, edges):
    """A callback that reads the clock after each edge batch, synchronised; stops after ``total``.

    Keras 2 calls batch hooks on the main thread. ``_supports_tf_logs`` tells
    tf-keras to pass the logs as tensors instead of converting them (which
    would wait for the device after every batch); the clock waits for them at
    window edges only. Keras 2.2.4's own loop already returns host numbers for
    every batch, a cost its users pay too.
    """
    edge_set = set(edges)

    class BatchClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self._supports_tf_logs = True
            self.offset = 0
            self.times = {}

        def on_epoch_begin(self, epoch, logs=None):
            self.offset = epoch * batches_per_epoch

        def _done(self, batch, logs):
            index = self.offset + batch
            if index in edge_set:
                _sync(logs)
                self.times[index] = time.perf_counter()
            if index + 1 >= total:
                self.model.stop_training = True

        def on_batch_end(self, batch, logs=None):
            self._done(batch, logs)

        def on_predict_batch_end(self, batch, logs=None):
            self._done(batch, logs)

    return BatchClock()


def timing_from_clock(times, spec, build_started, loop_started):
    """Windows between the clock readings at consecutive window edges."""
    edges = window_edges(spec)
    missing = [e for e in edges if e not in times]
    if missing:
        raise RuntimeError(f"Keras ran fewer batches than asked (batch {missing[0]} missing)")
    timed = edges[1:]
    windows = [times[b] - times[a] for a, b in zip(timed, timed[1:])]
    return Timing(times[0] - build_started, times[0] - loop_started, windows)


def time_fit(keras, model, x, y, spec, build_started):
    batch = spec["batch_size"]
    total = total_steps(spec)
    per_epoch = len(x) // batch
    clock = batch_clock(keras, total, per_epoch, window_edges(spec))
    started = time.perf_counter()
    model.fit(
        x,
        y,
        batch_size=batch,
        epochs=int(math.ceil(total / float(per_epoch))),
        shuffle=False,
        verbose=0,
        callbacks=[clock],
    )
    return timing_from_clock(clock.times, spec, build_started, started)


def predict_takes_callbacks(model):
    import inspect

    try:
        return "callbacks" in inspect.signature(model.predict).parameters
    except (TypeError, ValueError):
        return False


def time_predict(keras, model, x, spec, build_started):
    """Time ``predict``: with a batch clock where Keras 2 supports it, else per window."""
    import numpy as np

    batch = spec["batch_size"]
    total = total_steps(spec)
    per_call = len(x) // batch
    if predict_takes_callbacks(model):
        clock = batch_clock(keras, total, per_call, window_edges(spec))
        started = time.perf_counter()
        for call in range(int(math.ceil(total / float(per_call)))):
            clock.offset = call * per_call
            remaining = min(per_call, total - clock.offset)
            model.predict(x[: remaining * batch], batch_size=batch, verbose=0, callbacks=[clock])
        return timing_from_clock(
            clock.times, spec, build_started, started
        ), "batch clock at window edges"

    def batches(first, count):
        # The inputs of ``count`` batches from batch ``first`` on, cycling; copied
        # before the clock starts.
        return x[np.arange(first * batch, (first + count) * batch) % len(x)]

    started = time.perf_counter()
    model.predict(batches(0, 1), batch_size=batch)
    first_done = time.perf_counter()
    if spec["warmup"]:
        model.predict(batches(1, spec["warmup"]), batch_size=batch)
    windows = []
    first = 1 + spec["warmup"]
    for _ in range(n_windows(spec)):
        inputs = batches(first, spec["window_steps"])
        start = time.perf_counter()
        model.predict(inputs, batch_size=batch)
        windows.append(time.perf_counter() - start)
        first += spec["window_steps"]
    timing = Timing(first_done - build_started, first_done - started, windows)
    return timing, "one predict() call per window (this Keras' predict takes no callbacks)"
