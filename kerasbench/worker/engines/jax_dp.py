"""JAX data-parallel engine: ``keras.distribution.DataParallel`` over every process's devices.

Simulated CPU devices come from XLA's host device count; hosts join through
``jax.distributed.initialize`` (gloo collectives on CPUs), after kerasbench's
own rendezvous so that a host that never joins is a named error.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from kerasbench.models import ModelInfo
from kerasbench.worker import measure
from kerasbench.worker.engines import compile_model
from kerasbench.worker.engines.data_parallel import DataParallelEngine, first_line, join_timeout_s


class JaxEngine(DataParallelEngine):
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
                spec.coordinator,
                spec.host_rank,
                spec.num_hosts,
                join_timeout_s(spec),
                insecure=spec.insecure_rendezvous,
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
                    f"{timeout} s (jax.distributed.initialize: {first_line(exc)})"
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
        compile_model(model, info, self.spec)
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
