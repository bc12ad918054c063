"""TensorFlow's specifics inside a worker (see ``kerasbench.worker.frameworks``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from kerasbench.spec import Spec
from kerasbench.worker.device import cpu_name


def describe() -> tuple[str, str, str]:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return "gpu", details.get("device_name", gpus[0].name), tf.__version__
    return "cpu", cpu_name(), tf.__version__


def apply_settings(spec: Spec) -> dict[str, Any]:
    """TensorFlow enables TF32 by default and can auto-cluster ops into XLA: set both."""
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(spec.tf32)
    # Auto-clustering off: XLA only where jit_compile asks for it. TF_XLA_FLAGS
    # from the caller's environment can still force it, so it is recorded too.
    tf.config.optimizer.set_jit(False)
    return {
        "tf_tensor_float_32_execution": tf.config.experimental.tensor_float_32_execution_enabled(),
        "tf_xla_auto_clustering": bool(tf.config.optimizer.get_jit()),
        "TF_XLA_FLAGS": os.environ.get("TF_XLA_FLAGS", ""),
    }


def peak_device_memory_bytes() -> int | None:
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
    return None


def matmul_runner(n: int, dtype: str, gpu: bool) -> Callable[[int], None]:
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = tf.cast(rng.random((n, n), dtype=np.float32), dtype)
    b = tf.cast(rng.random((n, n), dtype=np.float32), dtype)
    mm = tf.function(tf.linalg.matmul)

    def run(r: int) -> None:
        for out in [mm(a, b) for _ in range(r)]:
            out[0, 0].numpy()  # fetching a value waits for its matmul

    return run


def data_parallel_engine() -> type:
    from kerasbench.worker.engines.tf_dp import TensorFlowEngine

    return TensorFlowEngine
