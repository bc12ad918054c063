"""The native-baseline engine: ``torch-native`` and ``jax-native`` points, measured without Keras.

It runs a ``kerasbench.native`` runner (plain PyTorch, or Flax with optax)
under the same worker rules as the Keras engines: a fresh process, the same
synthetic batches (``kerasbench.data.synthetic``, converted once to the
framework's image layout before the clock starts), the first step and the
warm-up outside the timed windows, the device synchronised only at window
edges, and the same stopping rule (``kerasbench.worker.measure``).

What each mode does, beside its Keras counterpart:

- ``train_on_batch``: per step, the batch's slices go to the device, one
  optimizer step runs and the loss comes back to the host, as Keras'
  ``train_on_batch`` returns host values.
- ``fit``: the framework's own epoch loop over an in-memory loader (a
  DataLoader, or numpy batches for Flax); the loss stays on the device.
- ``predict``: every batch's probabilities come back to the host, as
  ``model.predict`` gathers its outputs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from kerasbench.backends import BACKENDS
from kerasbench.data import synthetic
from kerasbench.models import ModelInfo
from kerasbench.spec import Spec
from kerasbench.worker import measure
from kerasbench.worker.engines import Engine, Measured, PointData, optimizer_choice


def framework(spec: Spec) -> str:
    """The framework a native point runs: torch or jax."""
    return BACKENDS[spec.backend].native


def native_compile(spec: Spec) -> str:
    """The runner's compile argument: torch eager for auto; JAX is always jitted."""
    if framework(spec) == "jax":
        return "jit"
    return "eager" if spec.compile == "auto" else spec.compile


def to_layout(x: np.ndarray, info: ModelInfo, spec: Spec) -> np.ndarray:
    """Image batches in the framework's layout: NCHW for torch, NHWC for JAX."""
    if info.input_kind != "image":
        return x
    wanted = "channels_first" if framework(spec) == "torch" else "channels_last"
    if spec.data_format == wanted:
        return x
    axes = (0, 3, 1, 2) if wanted == "channels_first" else (0, 2, 3, 1)
    return np.ascontiguousarray(x.transpose(axes))


class EdgeClock:
    """Reads the clock at window edges, after synchronising; says when the loop should stop.

    Call it after each batch with the batch's global index. It keeps the same
    ``times``/``starts``/``stop_reason``/``n_windows`` as Keras' batch clock, so
    ``measure.clock_timing`` turns it into a ``Timing``.
    """

    def __init__(self, spec: Spec, total: int, sync: Callable[[], None]) -> None:
        self.spec, self.total, self.sync = spec, total, sync
        self.rule = measure.stop_rule(spec)
        self.times: dict[int, float] = {}
        self.starts: dict[int, float] = {}
        self.stop_reason: str | None = None
        self.n_windows = 0

    def __call__(self, index: int, _output: Any = None) -> bool:
        spec = self.spec
        if measure.is_edge(index, spec):
            self.sync()
            self.times[index] = time.perf_counter()
            if index >= spec.warmup + spec.window_steps:
                edges = range(spec.warmup, index + 1, spec.window_steps)
                windows = [
                    self.times[b] - self.starts[a] for a, b in zip(edges, edges[1:], strict=False)
                ]
                timed = self.times[index] - self.starts[spec.warmup]
                reason = self.rule.decide([w / spec.window_steps for w in windows], timed)
                if reason:
                    self.stop_reason, self.n_windows = reason, len(windows)
                    return True
            self.starts[index] = time.perf_counter()  # the rule's own time is in no window
        return index + 1 >= self.total


class NativeEngine(Engine):
    """One process, one device, no Keras: a native runner's train, fit and predict steps."""

    runner: Any = None

    def load(self, info: ModelInfo) -> PointData:
        spec = self.spec
        n_distinct = synthetic.distinct_batches(info, spec, measure.total_steps(spec))
        x, y = synthetic.make_arrays(info, spec, n_distinct)
        return PointData(info, n_distinct, to_layout(x, info, spec), y)

    def build(self, info: ModelInfo) -> Any:
        from kerasbench.native import image_shape, make_native, native_name

        spec = self.spec
        shape = info.input_shape(spec)
        if info.input_kind == "image":
            shape = image_shape(framework(spec), spec.image_size)
        optimizer, learning_rate = optimizer_choice(spec, info)
        self.runner = make_native(
            framework(spec),
            native_name(spec.model),
            shape,
            info.num_classes,
            hparams=info.hparams,
            precision=spec.precision,
            optimizer=optimizer,
            learning_rate=learning_rate,
            compile=native_compile(spec),
            device=_device(spec),
            seed=spec.seed,
        )
        return self.runner

    def measure(self, model: Any, data: PointData, started: float) -> Measured:
        spec, runner = self.spec, model
        x, y, batch = data.x, data.y, spec.batch_size
        assert x is not None and y is not None
        if spec.mode == "train_on_batch":
            losses: list[float] = []

            def step(i: int) -> None:
                j = (i % data.n_distinct) * batch
                xb, yb = runner.to_device(x[j : j + batch]), runner.to_device(y[j : j + batch])
                losses.append(float(runner.train_step(xb, yb)))  # to the host, as Keras'

            timing = measure.time_step_loop(step, spec, started)
            return Measured(timing, timing.window_times_s, losses)
        total = 1 + spec.warmup + measure.max_windows(spec) * spec.window_steps
        clock = EdgeClock(spec, total, runner.sync)
        loop_started = time.perf_counter()
        if spec.mode == "fit":
            loader = runner.make_loader(x, y, batch)
            runner.fit(loader, math.ceil(total / len(loader)), clock)
        elif spec.mode == "predict":
            _predict_calls(runner, x, y, batch, total, clock)
        else:
            raise ValueError(
                f"{spec.backend} measures train_on_batch, fit, predict; not {spec.mode}"
            )
        timing = measure.clock_timing(clock, spec, started, loop_started)
        return Measured(timing, timing.window_times_s)

    def settings(self) -> dict[str, Any]:
        from kerasbench.native import native_name

        found = dict(self.runner.settings()) if self.runner is not None else {}
        found.update(
            native_model=native_name(self.spec.model),
            native_compile=native_compile(self.spec),
            # What the Keras side's jit_compile is, in these rows' words.
            jit_compile_resolved=native_compile(self.spec) != "eager",
        )
        return found


def _predict_calls(runner: Any, x: Any, y: Any, batch: int, total: int, clock: EdgeClock) -> None:
    """``runner.predict`` over the arrays, called again while short, as ``time_predict`` does."""
    per_call = len(x) // batch
    for call in range(math.ceil(total / per_call)):
        offset = call * per_call
        remaining = min(per_call, total - offset)
        loader = runner.make_loader(x[: remaining * batch], y[: remaining * batch], batch)
        runner.predict(loader, lambda i, out, offset=offset: clock(offset + i, out))
        if clock.stop_reason is not None or offset + remaining >= total:
            return


def _device(spec: Spec) -> str:
    """cuda where torch sees a GPU (the launcher hides it for device_kind cpu); else cpu."""
    if framework(spec) != "torch":
        return "cpu"  # JAX picks its platform per process (JAX_PLATFORMS)
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
