"""Serving benchmarks: latency and load scenarios, and the model on each export runtime.

The worker-facing API (see each module for details):

- ``runtimes.prepare(model, runtime, batches, workdir, precision)`` -> ``Runtime``
  (``predict``, ``record()``); raises ``Skip`` or ``OutputMismatch``.
- ``scenarios.latency``, ``scenarios.server``, ``scenarios.find_peak`` -> record dicts.
- ``floor.measure_floor()`` and ``floor.floor_flags(record, floor)``.
"""

from kerasbench.serving.export import Skip
from kerasbench.serving.floor import floor_flags, measure_floor
from kerasbench.serving.loadgen import FakeClock, RealClock, poisson_arrivals
from kerasbench.serving.runtimes import RUNTIMES, OutputMismatch, Runtime, prepare
from kerasbench.serving.scenarios import find_peak, latency, server

__all__ = [
    "RUNTIMES",
    "FakeClock",
    "OutputMismatch",
    "RealClock",
    "Runtime",
    "Skip",
    "find_peak",
    "floor_flags",
    "latency",
    "measure_floor",
    "poisson_arrivals",
    "prepare",
    "server",
]
