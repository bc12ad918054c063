"""Keras layers shared by the transformer models (bert_base, gpt_small), made on demand.

``layers()`` defines the classes when first called, so that importing the model
registry never imports Keras.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any


@functools.cache
def layers() -> SimpleNamespace:
    """The layer classes, defined once per process (after Keras picked its backend)."""
    import keras
    from keras import ops

    init = keras.initializers.TruncatedNormal(stddev=0.02)  # BERT's and GPT-2's

    class PositionEmbedding(keras.layers.Layer):
        """Adds a learned vector per position to a (batch, length, dim) input of fixed length."""

        def __init__(self, length: int, dim: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.length, self.dim = length, dim

        def build(self, input_shape: Any) -> None:
            self.positions = self.add_weight(
                shape=(self.length, self.dim), initializer=init, name="positions"
            )

        def call(self, x: Any) -> Any:
            return x + ops.cast(self.positions, x.dtype)

    class TiedHead(keras.layers.Layer):
        """Logits over the vocabulary from the token embedding's own matrix (GPT-2 ties them)."""

        def __init__(self, embedding: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.embedding = embedding

        def call(self, x: Any) -> Any:
            table = ops.cast(self.embedding.embeddings, x.dtype)
            return ops.matmul(x, ops.transpose(table))

    class PickPosition(keras.layers.Layer):
        """``h[b, pos[b]]`` for a (batch, length, dim) ``h``: one position per sequence.

        A one-hot product rather than a gather, because every backend (and XLA)
        compiles it the same way and its shapes never depend on ``pos``.
        """

        def call(self, h: Any, pos: Any) -> Any:
            pick = ops.one_hot(ops.reshape(pos, (-1,)), ops.shape(h)[1], dtype=h.dtype)
            return ops.sum(h * pick[:, :, None], axis=1)

    def dense(units: int, **kwargs: Any) -> Any:
        return keras.layers.Dense(units, kernel_initializer=init, **kwargs)

    return SimpleNamespace(
        PositionEmbedding=PositionEmbedding,
        TiedHead=TiedHead,
        PickPosition=PickPosition,
        dense=dense,
        init=init,
    )
