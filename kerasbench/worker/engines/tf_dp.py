"""TensorFlow data-parallel engine: ``MirroredStrategy`` on one host,
``MultiWorkerMirroredStrategy`` over hosts (via TF_CONFIG).

Keras 3's ``train_on_batch`` runs a whole batch on every replica and its
``fit`` fails under MultiWorkerMirroredStrategy, so those run Keras' own
``model.train_step`` inside ``strategy.run`` on a distributed dataset.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from kerasbench.models import ModelInfo
from kerasbench.worker import measure
from kerasbench.worker.engines import compile_model
from kerasbench.worker.engines.data_parallel import DataParallelEngine, join_timeout_s


class TensorFlowEngine(DataParallelEngine):
    def start(self) -> None:
        spec = self.spec
        workers = None
        if spec.num_hosts > 1 and "TF_CONFIG" not in os.environ:
            from kerasbench.worker import rendezvous

            # Before importing TensorFlow, so a missing host is reported without delay.
            workers = rendezvous.exchange_addresses(
                spec.coordinator,
                spec.host_rank,
                spec.num_hosts,
                join_timeout_s(spec),
                insecure=spec.insecure_rendezvous,
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
            compile_model(model, info, self.spec)
            if self.spec.mode != "predict":
                # Slot variables (momentum, RMSprop's averages) made lazily inside
                # strategy.run would be created in a replica context, which TF refuses.
                model.optimizer.build(model.trainable_variables)
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
