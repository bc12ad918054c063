"""Timing a point whose batches come from an input pipeline (a real dataset or ``--input``).

``train_on_batch`` takes each batch from the pipeline's iterator and also times
how long it waits for it: ``input_wait_fraction`` is that wait's share of the
timed windows, so a slow pipeline shows as such rather than as a slow backend.
``fit`` and ``predict`` get the loader object itself, as a user would pass it.
``input_only`` times the pipeline with no model at all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from kerasbench.data.pipeline import Feed, open_feed
from kerasbench.data.sources import open_source
from kerasbench.models import ModelInfo
from kerasbench.spec import Spec
from kerasbench.worker import measure


def uses_pipeline(spec: Spec) -> bool:
    """Whether ``spec`` reads through an input pipeline (anything but synthetic arrays)."""
    return spec.dataset != "synthetic" or spec.input != "arrays" or spec.mode == "input_only"


@dataclass
class FedInput:
    """A point's input pipeline and what it records in the result."""

    feed: Feed
    info: ModelInfo  # the model description the data fits
    skipped_files: int | None
    settings: dict[str, Any] = field(default_factory=dict)
    input_wait_fraction: float | None = None  # set by a train_on_batch timing


def run_batches(spec: Spec) -> int:
    """The most batches a point can take: first step, warm-up, and the most timed windows.

    With a target CI the stopping rule may end the run earlier; the loaders
    are lazy, so an unused tail costs nothing.
    """
    return 1 + spec.warmup + measure.max_windows(spec) * spec.window_steps


def open_input(info: ModelInfo, spec: Spec) -> FedInput:
    """Open ``spec``'s dataset and build its loader (before any timing)."""
    n_batches = run_batches(spec)
    opened = open_source(info, spec, n_batches * spec.batch_size)
    feed = open_feed(opened, spec, spec.backend, n_batches)
    return FedInput(feed, opened.info, opened.skipped_files, feed.settings)


def time_mode(model: Any, fed: FedInput, spec: Spec, build_started: float) -> measure.Timing:
    """Time ``spec.mode`` on ``model`` (None for ``input_only``) fed by ``fed``."""
    feed = fed.feed
    if spec.mode == "input_only":
        return time_input_only(feed, spec, build_started)
    if spec.mode == "train_on_batch":
        timing, fed.input_wait_fraction = time_train_on_batch(model, feed, spec, build_started)
        return timing
    if feed.kind == "arrays":
        x, y = feed.loader
        if spec.mode == "fit":
            return measure.time_fit(model, x, y, spec, build_started)
        return measure.time_predict(model, x, spec, build_started)
    total = run_batches(spec)
    clock = measure.batch_clock(total, total, spec)
    started = time.perf_counter()
    if spec.mode == "fit":
        # One epoch of exactly the run's batches: the loader is never restarted.
        model.fit(feed.loader, epochs=1, shuffle=False, verbose=0, callbacks=[clock])
    elif spec.mode == "predict":
        model.predict(feed.loader, verbose=0, callbacks=[clock])
    else:
        raise ValueError(f"mode {spec.mode!r} does not read an input pipeline")
    # The same reading of the clock as measure.time_fit's (stopping rule, windows).
    return measure.clock_timing(clock, spec, build_started, started)


def time_train_on_batch(
    model: Any, feed: Feed, spec: Spec, build_started: float
) -> tuple[measure.Timing, float | None]:
    """Timing, and the share of the timed windows spent waiting for the next batch."""
    batches = feed.batches()
    first_timed = 1 + spec.warmup
    waited = 0.0

    def step(i: int) -> Any:
        nonlocal waited
        asked = time.perf_counter()
        x, y = next(batches)
        if i >= first_timed:
            waited += time.perf_counter() - asked
        return model.train_on_batch(x, y)

    timing = measure.time_step_loop(step, spec, build_started)
    total = sum(timing.window_times_s)
    return timing, (waited / total if total > 0 else None)


def time_input_only(feed: Feed, spec: Spec, build_started: float) -> measure.Timing:
    """The pipeline alone: each step takes one fully made batch from its iterator."""
    batches = feed.batches()
    return measure.time_step_loop(lambda i: next(batches), spec, build_started)
