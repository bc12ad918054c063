"""JAX's specifics inside a worker (see ``kerasbench.worker.frameworks``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kerasbench.spec import Spec
from kerasbench.worker.device import cpu_name


def describe() -> tuple[str, str, str]:
    import jax

    device = jax.devices()[0]
    kind = "cpu" if device.platform == "cpu" else "gpu"
    return kind, cpu_name() if kind == "cpu" else device.device_kind, jax.__version__


def apply_settings(spec: Spec) -> dict[str, Any]:
    """JAX's default float32 matmul precision is TF32 on Ampere and newer: set it."""
    import jax

    precision = "tensorfloat32" if spec.tf32 else "float32"
    jax.config.update("jax_default_matmul_precision", precision)
    return {"jax_default_matmul_precision": precision}


def peak_device_memory_bytes() -> int | None:
    import jax

    for device in jax.local_devices():
        if device.platform != "cpu":
            stats = device.memory_stats() or {}
            return stats.get("peak_bytes_in_use")
    return None


def matmul_runner(n: int, dtype: str, gpu: bool) -> Callable[[int], None]:
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.random((n, n), dtype=np.float32), dtype=dtype)
    b = jnp.asarray(rng.random((n, n), dtype=np.float32), dtype=dtype)
    mm = jax.jit(jnp.matmul)

    def run(r: int) -> None:
        jax.block_until_ready([mm(a, b) for _ in range(r)])

    return run


def data_parallel_engine() -> type:
    from kerasbench.worker.engines.jax_dp import JaxEngine

    return JaxEngine
