"""Settings that silently change the work a backend does, set explicitly and recorded.

Each backend has defaults that differ: on Ampere and newer GPUs JAX's default
float32 matmul precision uses TensorFloat-32, TensorFlow enables TF32 by
default, PyTorch disables it for matmuls; TensorFlow can auto-cluster ops into
XLA when ``TF_XLA_FLAGS`` asks it to. A benchmark point sets all of them from
its Spec (``tf32``, ``precision``), the same way on every backend, and the
result's ``settings`` records what was set.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from kerasbench.spec import Spec


def seed(value: int, backend: str) -> None:
    """``keras.utils.set_random_seed``, without importing TensorFlow into other backends' workers.

    Keras also seeds ``tf.random`` whenever TensorFlow is installed (for tf.data
    shuffling), which imports TensorFlow into a JAX or PyTorch worker: ~3 s of
    start-up and a few hundred MB of resident memory that the point does not
    use and that would count in its peak host memory. Outside a TensorFlow
    worker nothing here runs TensorFlow, so that one step is skipped; anything
    that touches ``tf`` later still imports it as usual.
    """
    import keras

    if backend == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(value)
        return
    from keras.src.utils import module_utils  # Keras' lazy handle on TensorFlow

    lazy_tf = module_utils.tensorflow
    known = lazy_tf._available
    lazy_tf._available = False  # read by set_random_seed only, restored below
    try:
        keras.utils.set_random_seed(value)
    finally:
        lazy_tf._available = known


def apply(spec: Spec) -> dict[str, Any]:
    """Set TF32, XLA auto-clustering and the mixed-precision policy; returns what was set."""
    import keras

    keras.mixed_precision.set_global_policy(spec.precision)
    settings: dict[str, Any] = {"tf32": spec.tf32, "mixed_precision_policy": spec.precision}
    if spec.backend == "jax":
        import jax

        precision = "tensorfloat32" if spec.tf32 else "float32"
        jax.config.update("jax_default_matmul_precision", precision)
        settings["jax_default_matmul_precision"] = precision
    elif spec.backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = spec.tf32
        torch.backends.cudnn.allow_tf32 = spec.tf32
        torch.set_float32_matmul_precision("high" if spec.tf32 else "highest")
        settings["torch_allow_tf32"] = {"matmul": spec.tf32, "cudnn": spec.tf32}
        settings["torch_float32_matmul_precision"] = torch.get_float32_matmul_precision()
    elif spec.backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(spec.tf32)
        # Auto-clustering off: XLA only where jit_compile asks for it. TF_XLA_FLAGS
        # from the caller's environment can still force it, so it is recorded too.
        tf.config.optimizer.set_jit(False)
        settings["tf_tensor_float_32_execution"] = (
            tf.config.experimental.tensor_float_32_execution_enabled()
        )
        settings["tf_xla_auto_clustering"] = bool(tf.config.optimizer.get_jit())
        settings["TF_XLA_FLAGS"] = os.environ.get("TF_XLA_FLAGS", "")
    elif spec.backend == "openvino":
        settings["openvino_inference_precision"] = "backend default (not controlled)"
    return settings
