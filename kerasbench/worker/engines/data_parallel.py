"""Data-parallel points (devices > 1 or num_hosts > 1): what every backend's engine shares.

- JAX (``jax_dp``): ``keras.distribution.DataParallel`` over the devices of every
  process (simulated CPU devices through XLA's host device count); hosts join
  through ``jax.distributed.initialize`` (gloo collectives on CPUs).
- TensorFlow (``tf_dp``): ``tf.distribute.MirroredStrategy`` on one host (logical
  CPU devices on a CPU); ``MultiWorkerMirroredStrategy`` over hosts, via TF_CONFIG.
- PyTorch (``torch_ddp``): one process per device started by torchrun,
  ``DistributedDataParallel`` around the Keras model (gloo on CPUs, NCCL on GPUs).

``spec.batch_size`` is the global batch. Every process makes the same global
batches (same seed, same order) and feeds only its slice of each, so the data
do not depend on how many devices share the work and no batch is multiplied
by a device count. Gradients are averaged by each engine's all-reduce.
Every process times its own windows; the first process of each host writes
the result, and host 0's result carries every process's windows.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from typing import Any

import numpy as np

from kerasbench.data import synthetic
from kerasbench.models import ModelInfo
from kerasbench.spec import Spec
from kerasbench.worker import measure
from kerasbench.worker.engines import Engine, Measured, PointData, compile_model

_STARTED = time.monotonic()  # this module is imported when the worker starts


def writes_result() -> bool:
    """Whether this process writes the host's result file (torchrun starts one per device)."""
    return os.environ.get("LOCAL_RANK", "0") == "0"


def join_timeout_s(spec: Spec) -> float:
    """How long processes still wait for each other: until 60% of the point's timeout
    since the worker started, so that a host that never joins ends the point as
    ``failed`` (with the reason) before the launcher kills the worker."""
    return max(5.0, 0.6 * spec.timeout - (time.monotonic() - _STARTED))


def local_rows(a: np.ndarray, batch: int, index: int, count: int) -> np.ndarray:
    """The rows of process ``index`` of ``count`` in every global batch of ``a``."""
    per = batch // count
    shaped = a.reshape(len(a) // batch, batch, *a.shape[1:])
    mine = shaped[:, index * per : (index + 1) * per]
    return np.ascontiguousarray(mine.reshape(-1, *a.shape[1:]))


def exit_at_once(code: int) -> None:
    """End a failed data-parallel worker without interpreter teardown: JAX's exit-time
    shutdown barrier waits for peers that may be gone, then aborts (seen when a host died)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


class DataParallelEngine(Engine):
    """One backend's data-parallel machinery; see the module docstring."""

    distribution = ""  # the engine, as recorded in settings
    training_loop = "Keras' own loop"

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.process_index = spec.host_rank  # which slice of each global batch this process feeds
        self.process_count = spec.num_hosts

    def load(self, info: ModelInfo) -> PointData:
        """The global synthetic batches, of which this process keeps its slice."""
        spec = self.spec
        n_distinct = synthetic.distinct_batches(info, spec, measure.total_steps(spec))
        x, y = synthetic.make_arrays(info, spec, n_distinct)
        index, count = self.process_index, self.process_count
        x = local_rows(x, spec.batch_size, index, count)
        y = local_rows(y, spec.batch_size, index, count)
        return PointData(info, n_distinct, x, y)

    def build(self, info: ModelInfo) -> Any:
        model = info.build(self.spec)
        compile_model(model, info, self.spec)
        return model

    def run(
        self, model: Any, x: np.ndarray, y: np.ndarray, started: float
    ) -> tuple[measure.Timing, list[float]]:
        """Timings of this process, and the global loss of every step where known."""
        raise NotImplementedError

    def gather(self, values: list[float]) -> list[list[float]]:
        """``values`` of every process, in process order (collective: all must call it)."""
        return [values]

    def measure(self, model: Any, data: PointData, started: float) -> Measured:
        timing, losses = self.run(model, data.x, data.y, started)
        per_process = self.gather(timing.window_times_s)
        # Processes synchronise in every gradient all-reduce; the slowest ends each window.
        windows = [max(column) for column in zip(*per_process, strict=True)]
        # host 0's result carries every process's windows
        return Measured(timing, windows, losses, settings={"process_window_times_s": per_process})

    def settings(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "distribution": self.distribution,
            "training_loop": self.training_loop if spec.mode != "predict" else None,
            "host_rank": spec.host_rank,
            "processes": self.process_count,
            "per_process_batch": spec.batch_size // self.process_count,
            "per_device_batch": spec.per_device_batch_size,
        }

    @property
    def local_batch(self) -> int:
        return self.spec.batch_size // self.process_count

    def keras_loop(
        self, model: Any, x: np.ndarray, y: np.ndarray, started: float
    ) -> tuple[measure.Timing, list[float]]:
        """The single-device worker's modes, fed this process's slice of every batch."""
        local = dataclasses.replace(
            self.spec, batch_size=self.local_batch, num_hosts=1, host_rank=0
        )
        n = len(x) // local.batch_size
        if self.spec.mode == "fit":
            return measure.time_fit(model, x, y, local, started), []
        if self.spec.mode == "predict":
            return measure.time_predict(model, x, local, started), []
        losses: list[float] = []
        b = local.batch_size

        def step(i: int) -> Any:
            j = (i % n) * b
            loss = model.train_on_batch(x[j : j + b], y[j : j + b])
            losses.append(float(loss))

        return measure.time_step_loop(step, self.spec, started), losses
