"""Settings that silently change the work a backend does, set explicitly and recorded.

Each backend has defaults that differ: on Ampere and newer GPUs JAX's default
float32 matmul precision uses TensorFloat-32, TensorFlow enables TF32 by
default, PyTorch disables it for matmuls; TensorFlow can auto-cluster ops into
XLA when ``TF_XLA_FLAGS`` asks it to. A benchmark point sets all of them from
its Spec (``tf32``, ``precision``), the same way on every backend, and the
result's ``settings`` records what was set.
"""

from __future__ import annotations

import sys
from typing import Any

from kerasbench.spec import Spec
from kerasbench.worker import frameworks


def seed(value: int) -> None:
    """``keras.utils.set_random_seed``, without importing TensorFlow into other backends' workers.

    Keras also seeds ``tf.random`` whenever TensorFlow is installed (for tf.data
    shuffling), which imports TensorFlow into a JAX or PyTorch worker: ~3 s of
    start-up and a few hundred MB of resident memory that the point does not
    use and that would count in its peak host memory. A TensorFlow worker has
    imported it with Keras already; elsewhere that one step is skipped, and
    anything that touches ``tf`` later still imports it as usual.
    """
    import keras

    if "tensorflow" in sys.modules:
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
    settings.update(frameworks.get(spec.backend).apply_settings(spec))
    return settings
