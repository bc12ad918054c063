"""Synthetic inputs of the right shape for a model, made once per worker, seeded.

Generated outside every timed window. Images are uniform in [0, 1) like
rescaled pixels; labels are uniform over the model's classes.
"""

from __future__ import annotations

import numpy as np

from kerasbench.models import ModelInfo
from kerasbench.spec import Spec


def make_arrays(info: ModelInfo, spec: Spec, n_batches: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_batches`` global batches of inputs (float32) and sparse labels (int32)."""
    rng = np.random.default_rng(spec.seed)
    n = n_batches * spec.batch_size
    x = rng.random((n, *info.input_shape(spec)), dtype=np.float32)
    y = rng.integers(0, info.num_classes, size=(n,), dtype=np.int32)
    return x, y


def sample_bytes(info: ModelInfo, spec: Spec) -> int:
    """Bytes of one float32 input sample."""
    return 4 * int(np.prod(info.input_shape(spec)))
