"""Synthetic inputs of the right shape for a model, made once per worker, seeded.

Generated outside every timed window. Images, vectors and feature sequences
are float32, uniform in [0, 1) like rescaled pixels; token inputs are int32 ids,
uniform over the vocabulary. Labels are sparse int32 class ids, uniform over
the model's classes; for a causal LM they are the next token at every position
(the input sequence shifted by one), as in real language-model training.
"""

from __future__ import annotations

import numpy as np

from kerasbench.models import ModelInfo
from kerasbench.spec import Spec

# Upper bound on distinct in-memory batches; longer runs cycle through them.
MAX_ARRAY_BYTES = 1 << 30


def make_arrays(info: ModelInfo, spec: Spec, n_batches: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_batches`` global batches of inputs and their sparse labels (int32)."""
    rng = np.random.default_rng(spec.seed)
    n = n_batches * spec.batch_size
    shape = info.input_shape(spec)
    if info.input_kind == "tokens":
        assert info.vocab_size is not None
        if info.target == "next_token":
            stream = rng.integers(0, info.vocab_size, size=(n, shape[0] + 1), dtype=np.int32)
            return np.ascontiguousarray(stream[:, :-1]), np.ascontiguousarray(stream[:, 1:])
        x = rng.integers(0, info.vocab_size, size=(n, *shape), dtype=np.int32)
    else:
        x = rng.random((n, *shape), dtype=np.float32)
    y = rng.integers(0, info.num_classes, size=(n, *info.label_shape(spec)), dtype=np.int32)
    return x, y


def sample_bytes(info: ModelInfo, spec: Spec) -> int:
    """Bytes of one input sample and its label (float32 or int32: 4 bytes per value)."""
    return 4 * (int(np.prod(info.input_shape(spec))) + int(np.prod(info.label_shape(spec))))


def distinct_batches(info: ModelInfo, spec: Spec, steps: int) -> int:
    """How many distinct batches to make for ``steps`` steps, within MAX_ARRAY_BYTES."""
    per_sample = sample_bytes(info, spec)
    if spec.mode == "predict":  # predict keeps every output on the host until it returns
        per_sample += info.output_bytes(spec)
    return max(1, min(steps, MAX_ARRAY_BYTES // (per_sample * spec.batch_size)))
