"""Data-parallel points (devices > 1 or num_hosts > 1), each on its backend's own engine.

- JAX: ``keras.distribution.DataParallel`` over the devices of every process
  (simulated CPU devices through XLA's host device count); hosts join through
  ``jax.distributed.initialize`` (gloo collectives on CPUs).
- TensorFlow: ``tf.distribute.MirroredStrategy`` on one host (logical CPU
  devices on a CPU); ``MultiWorkerMirroredStrategy`` over hosts, via TF_CONFIG.
  Keras 3's ``train_on_batch`` runs a whole batch on every replica and its
  ``fit`` fails under MultiWorkerMirroredStrategy, so those run Keras' own
  ``model.train_step`` inside ``strategy.run`` on a distributed dataset.
- PyTorch: one process per device started by torchrun, ``DistributedDataParallel``
  around the Keras model (gloo on CPUs, NCCL on GPUs). Keras' ``fit`` does not
  drive DDP, so training is a torch loop of Keras' loss and optimizer around it.

``spec.batch_size`` is the global batch. Every process makes the same global
batches (same seed, same order) and feeds only its slice of each, so the data
do not depend on how many devices share the work and no batch is multiplied
by a device count. Gradients are averaged by each engine's all-reduce.
Every process times its own windows; the first process of each host writes
the result, and host 0's result carries every process's windows.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import signal
import sys
import time
from datetime import timedelta
from typing import Any

import numpy as np

from kerasbench.data import synthetic
from kerasbench.models import ModelInfo, get_model
from kerasbench.spec import Spec
from kerasbench.worker import measure, memory
from kerasbench.worker import settings as explicit_settings
from kerasbench.worker.device import describe


def is_data_parallel(spec: Spec) -> bool:
    return spec.devices > 1 or spec.num_hosts > 1


def writes_result() -> bool:
    """Whether this process writes the host's result file (torchrun starts one per device)."""
    return os.environ.get("LOCAL_RANK", "0") == "0"


_STARTED = time.monotonic()  # this module is imported when the worker starts


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


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def _compile(model: Any, info: ModelInfo, spec: Spec) -> None:
    """The same compile as the single-device worker, so that both do the same work."""
    import keras

    from kerasbench.worker.main import _jit_arg

    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.01),
        loss=info.make_loss(),
        jit_compile=_jit_arg(spec.jit_compile),
    )


class Engine:
    """One backend's data-parallel machinery; see the module docstring."""

    distribution = ""  # the engine, as recorded in settings
    training_loop = "Keras' own loop"

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.process_index = spec.host_rank  # which slice of each global batch this process feeds
        self.process_count = spec.num_hosts

    def start(self) -> None:
        """Set up devices and join the other processes; runs before Keras is imported."""

    def build(self, info: ModelInfo) -> Any:
        raise NotImplementedError

    def run(
        self, model: Any, x: np.ndarray, y: np.ndarray, started: float
    ) -> tuple[measure.Timing, list[float]]:
        """Timings of this process, and the global loss of every step where known."""
        raise NotImplementedError

    def gather(self, values: list[float]) -> list[list[float]]:
        """``values`` of every process, in process order (collective: all must call it)."""
        return [values]

    def finish(self) -> None:
        pass

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


class JaxEngine(Engine):
    distribution = "keras.distribution.DataParallel"

    def start(self) -> None:
        spec = self.spec
        flags = os.environ.get("XLA_FLAGS", "")
        if spec.devices > 1 and "xla_force_host_platform_device_count" not in flags:
            # Simulated CPU devices; this flag does nothing where GPUs are the devices.
            os.environ["XLA_FLAGS"] = (
                f"{flags} --xla_force_host_platform_device_count={spec.devices}".strip()
            )
        if spec.num_hosts > 1:
            from kerasbench.worker import rendezvous

            # JAX's coordination client aborts the process (no exception, so no
            # result) when a host never joins: meet first, so that a missing host
            # is a named error. JAX then binds the same port for its own service.
            rendezvous.exchange_addresses(
                spec.coordinator, spec.host_rank, spec.num_hosts, join_timeout_s(spec)
            )
        import jax

        if spec.num_hosts > 1:
            jax.config.update("jax_cpu_collectives_implementation", "gloo")
            timeout = int(join_timeout_s(spec))
            try:
                jax.distributed.initialize(
                    coordinator_address=spec.coordinator,
                    num_processes=spec.num_hosts,
                    process_id=spec.host_rank,
                    initialization_timeout=timeout,
                    heartbeat_timeout_seconds=timeout,
                    shutdown_timeout_seconds=timeout,
                )
            except Exception as exc:
                raise RuntimeError(
                    f"not all {spec.num_hosts} hosts joined {spec.coordinator} within "
                    f"{timeout} s (jax.distributed.initialize: {_first_line(exc)})"
                ) from exc

    def build(self, info: ModelInfo) -> Any:
        import jax
        import keras

        devices = []
        for process in range(jax.process_count()):
            mine = [d for d in jax.devices() if d.process_index == process][: self.spec.devices]
            if len(mine) < self.spec.devices:
                raise RuntimeError(
                    f"process {process} has {len(mine)} {jax.default_backend()} device(s); "
                    f"the point asks for {self.spec.devices} per host"
                )
            devices += [f"{d.platform}:{d.id}" for d in mine]
        distribution = keras.distribution.DataParallel(devices=devices)
        # Each process passes its own slice of every global batch (see local_rows);
        # Keras must not shard the data again.
        distribution.auto_shard_dataset = False
        keras.distribution.set_distribution(distribution)
        model = info.build(self.spec)
        _compile(model, info, self.spec)
        return model

    def run(
        self, model: Any, x: np.ndarray, y: np.ndarray, started: float
    ) -> tuple[measure.Timing, list[float]]:
        return self.keras_loop(model, x, y, started)

    def gather(self, values: list[float]) -> list[list[float]]:
        import jax

        if jax.process_count() == 1:
            return [values]
        from jax.experimental import multihost_utils

        gathered = multihost_utils.process_allgather(np.asarray(values, dtype=np.float32))
        return np.asarray(gathered, dtype=np.float64).reshape(jax.process_count(), -1).tolist()


class TensorFlowEngine(Engine):
    def start(self) -> None:
        spec = self.spec
        workers = None
        if spec.num_hosts > 1 and "TF_CONFIG" not in os.environ:
            from kerasbench.worker import rendezvous

            # Before importing TensorFlow, so a missing host is reported without delay.
            workers = rendezvous.exchange_addresses(
                spec.coordinator, spec.host_rank, spec.num_hosts, join_timeout_s(spec)
            )
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU") if spec.device_kind != "cpu" else []
        if gpus:
            tf.config.set_visible_devices(gpus[: spec.devices], "GPU")
        if spec.num_hosts == 1:
            if gpus:
                names = [f"/gpu:{i}" for i in range(spec.devices)]
            else:
                # Logical CPU devices must exist before anything initialises TensorFlow.
                cpu = tf.config.list_physical_devices("CPU")[0]
                tf.config.set_logical_device_configuration(
                    cpu, [tf.config.LogicalDeviceConfiguration()] * spec.devices
                )
                names = [d.name for d in tf.config.list_logical_devices("CPU")]
            self.strategy = tf.distribute.MirroredStrategy(devices=names)
            self.distribution = "tf.distribute.MirroredStrategy"
            return
        if workers is not None:
            os.environ["TF_CONFIG"] = json.dumps(
                {
                    "cluster": {"worker": workers},
                    "task": {"type": "worker", "index": spec.host_rank},
                }
            )
        # A collective that waits longer than this (a host died) fails instead of hanging.
        options = tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=join_timeout_s(spec)
        )
        self.strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
        self.distribution = "tf.distribute.MultiWorkerMirroredStrategy"

    def build(self, info: ModelInfo) -> Any:
        with self.strategy.scope():
            model = info.build(self.spec)
            _compile(model, info, self.spec)
        return model

    def run(
        self, model: Any, x: np.ndarray, y: np.ndarray, started: float
    ) -> tuple[measure.Timing, list[float]]:
        spec = self.spec
        if spec.num_hosts == 1 and spec.mode in ("fit", "predict"):
            return self.keras_loop(model, x, y, started)
        return self._strategy_loop(model, x, y, started)

    def _strategy_loop(
        self, model: Any, x: np.ndarray, y: np.ndarray, started: float
    ) -> tuple[measure.Timing, list[float]]:
        """Keras' own train (or predict) step in ``strategy.run``, one batch per call."""
        import tensorflow as tf

        spec, strategy = self.spec, self.strategy
        per_replica = spec.per_device_batch_size
        training = spec.mode != "predict"
        self.training_loop = (
            "Keras model.train_step in strategy.run, one batch per call"
            if training
            else "model(x) in strategy.run, one batch per call"
        )
        data = (x, y) if training else x

        def dataset(context: Any) -> Any:
            # This process's rows, in per-replica batches handed to its replicas in turn.
            return tf.data.Dataset.from_tensor_slices(data).batch(per_replica).repeat()

        batches = iter(strategy.distribute_datasets_from_function(dataset))
        if training:
            step_fn = model.train_step
            if model.jit_compile:
                step_fn = tf.function(step_fn, jit_compile=True)

            @tf.function
            def train(batch: Any) -> Any:
                logs = strategy.run(step_fn, args=(batch,))
                return strategy.reduce(tf.distribute.ReduceOp.MEAN, logs["loss"], axis=None)

            losses: list[float] = []

            def step(i: int) -> None:
                model.reset_metrics()  # this batch's loss alone, as train_on_batch reports it
                losses.append(float(train(next(batches))))

            return measure.time_step_loop(step, spec, started), losses

        @tf.function
        def infer(batch: Any) -> Any:
            return strategy.run(lambda b: model(b, training=False), args=(batch,))

        def predict_step(i: int) -> None:
            for out in strategy.experimental_local_results(infer(next(batches))):
                out.numpy()  # to the host, as predict returns it

        return measure.time_step_loop(predict_step, spec, started), []

    def gather(self, values: list[float]) -> list[list[float]]:
        if self.spec.num_hosts == 1:
            return [values]
        import tensorflow as tf

        strategy = self.strategy
        mine = tf.constant([values], dtype=tf.float64)

        @tf.function
        def gather_all() -> Any:
            return strategy.gather(strategy.run(lambda: tf.identity(mine)), axis=0)

        rows = gather_all().numpy().tolist()
        # One row per replica; replicas of one worker share its process's timings.
        per_worker = len(rows) // self.spec.num_hosts
        return rows[::per_worker]


def _die_with_parent() -> None:
    """End this rank when its torchrun agent dies: torchrun starts ranks in sessions
    of their own, so a launcher that kills the agent's group would miss them."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the agent died before prctl took effect
        os._exit(1)


class TorchEngine(Engine):
    distribution = "torch.nn.parallel.DistributedDataParallel"
    training_loop = (
        "torch loop: DistributedDataParallel(Keras model), Keras loss and optimizer "
        "(Keras fit/train_on_batch do not drive DDP); the loss reaches the host every "
        "step for train_on_batch, at window edges for fit"
    )

    def start(self) -> None:
        import torch
        import torch.distributed as dist

        _die_with_parent()
        self.rank = int(os.environ["RANK"])
        self.world = int(os.environ["WORLD_SIZE"])
        self.local_rank = int(os.environ["LOCAL_RANK"])
        if self.world != self.spec.total_devices:
            raise RuntimeError(
                f"torchrun started {self.world} processes; the point asks for "
                f"{self.spec.total_devices}"
            )
        self.process_index, self.process_count = self.rank, self.world
        self.on_gpu = self.spec.device_kind != "cpu" and torch.cuda.is_available()
        if self.on_gpu:
            torch.cuda.set_device(self.local_rank)
        timeout = join_timeout_s(self.spec)
        try:
            dist.init_process_group(
                "nccl" if self.on_gpu else "gloo", timeout=timedelta(seconds=timeout)
            )
        except Exception as exc:
            raise RuntimeError(
                f"not all {self.world} processes joined within {timeout:g} s "
                f"(init_process_group: {_first_line(exc)})"
            ) from exc

    def build(self, info: ModelInfo) -> Any:
        from torch.nn.parallel import DistributedDataParallel

        model = info.build(self.spec)
        _compile(model, info, self.spec)
        model.optimizer.build(model.trainable_variables)
        # DDP broadcasts rank 0's weights at construction and averages gradients
        # over all processes during backward().
        device_ids = [self.local_rank] if self.on_gpu else None
        self.ddp = DistributedDataParallel(model, device_ids=device_ids)
        return model

    def run(
        self, model: Any, x: np.ndarray, y: np.ndarray, started: float
    ) -> tuple[measure.Timing, list[float]]:
        import keras
        import torch

        spec, b = self.spec, self.local_batch
        n = len(x) // b
        if spec.mode == "predict":
            self.training_loop = "model(x) on each process's slice, no gradient"

            def predict_step(i: int) -> None:
                j = (i % n) * b
                with torch.no_grad():
                    out = model(keras.ops.convert_to_tensor(x[j : j + b]), training=False)
                keras.ops.convert_to_numpy(out)  # to the host, as predict returns it

            return measure.time_step_loop(predict_step, spec, started), []

        weights = model.trainable_variables
        local_losses: list[Any] = []
        first_timed = 1 + spec.warmup

        def must_sync(i: int) -> bool:
            """train_on_batch returns the loss every step; fit waits at window edges only."""
            edge = i < first_timed or (i - first_timed + 1) % spec.window_steps == 0
            return spec.mode == "train_on_batch" or edge

        def train_step(i: int) -> None:
            j = (i % n) * b
            xb = keras.ops.convert_to_tensor(x[j : j + b])
            yb = keras.ops.convert_to_tensor(y[j : j + b])
            y_pred = self.ddp(xb, training=True)
            model.zero_grad()
            loss = model.compute_loss(x=xb, y=yb, y_pred=y_pred, training=True)
            model.optimizer.scale_loss(loss).backward()  # DDP all-reduces gradients here
            with torch.no_grad():
                model.optimizer.apply([w.value.grad for w in weights], weights)
            local_losses.append(loss.detach())
            if must_sync(i):
                float(local_losses[-1])  # to the host: the step is done on the device

        timing = measure.time_step_loop(train_step, spec, started)
        # Equal slices: the global loss is the mean of the processes' losses.
        per_process = self.gather([float(v) for v in local_losses])
        return timing, [float(v) for v in np.mean(per_process, axis=0)]

    def gather(self, values: list[float]) -> list[list[float]]:
        import torch
        import torch.distributed as dist

        device = f"cuda:{self.local_rank}" if self.on_gpu else "cpu"
        mine = torch.tensor(values, dtype=torch.float64, device=device)
        rows = [torch.empty_like(mine) for _ in range(self.world)]
        dist.all_gather(rows, mine)
        return [r.cpu().tolist() for r in rows]

    def finish(self) -> None:
        import torch.distributed as dist

        dist.destroy_process_group()


ENGINES: dict[str, type[Engine]] = {
    "jax": JaxEngine,
    "tensorflow": TensorFlowEngine,
    "torch": TorchEngine,
}


def run_point(spec: Spec) -> dict[str, Any]:
    """Build, compile and time one data-parallel point; returns this host's raw measurement."""
    from kerasbench.worker.main import PROTOCOL, _resolved_jit

    if spec.backend not in ENGINES:
        raise ValueError(f"backend {spec.backend} has no data-parallel engine")
    engine = ENGINES[spec.backend](spec)
    import_started = time.perf_counter()
    engine.start()
    import keras

    # The same initial weights in every process.
    explicit_settings.seed(spec.seed, spec.backend)
    keras.config.set_image_data_format(spec.data_format)
    keras.mixed_precision.set_global_policy(spec.precision)

    kind, name, version = describe(spec.backend)
    if spec.device_kind == "gpu" and kind != "gpu":
        raise RuntimeError(f"backend {spec.backend} found no GPU although device_kind is gpu")
    info = get_model(spec.model)
    n_distinct = synthetic.distinct_batches(info, spec, measure.total_steps(spec))
    imported = time.perf_counter()
    x, y = synthetic.make_arrays(info, spec, n_distinct)
    index, count = engine.process_index, engine.process_count
    x = local_rows(x, spec.batch_size, index, count)
    y = local_rows(y, spec.batch_size, index, count)
    data_ready = time.perf_counter()

    model = engine.build(info)
    timing, losses = engine.run(model, x, y, data_ready)
    per_process = engine.gather(timing.window_times_s)
    settings = {
        "distribution": engine.distribution,
        "training_loop": engine.training_loop if spec.mode != "predict" else None,
        "host_rank": spec.host_rank,  # host 0's result carries every process's windows
        "processes": count,
        "per_process_batch": spec.batch_size // count,
        "per_device_batch": spec.per_device_batch_size,
        "process_window_times_s": per_process,
        "jit_compile_resolved": _resolved_jit(model),
        "dtype_policy": keras.mixed_precision.global_policy().name,
        "image_data_format": keras.config.image_data_format(),
        "optimizer": "SGD(learning_rate=0.01)",
        "loss": info.loss_name,
        "distinct_batches": n_distinct,
        "import_s": round(imported - import_started, 3),
        "data_generation_s": round(data_ready - imported, 3),
    }
    if spec.backend == "torch":
        import torch

        settings["torch_threads_per_process"] = torch.get_num_threads()
    engine.finish()
    return {
        "protocol": PROTOCOL,
        "status": "ok",
        "error": None,
        # Processes synchronise in every gradient all-reduce; the slowest ends each window.
        "window_times_s": [max(column) for column in zip(*per_process, strict=True)],
        "losses": losses,
        "time_to_first_step_s": timing.time_to_first_step_s,
        "first_step_s": timing.first_step_s,
        "peak_host_memory_bytes": memory.peak_host_memory_bytes(),
        "peak_device_memory_bytes": memory.peak_device_memory_bytes(spec.backend),
        "device_kind": kind,
        "device_name": name,
        "keras_version": keras.__version__,
        "backend_version": version,
        "python_version": platform.python_version(),
        "settings": settings,
    }
