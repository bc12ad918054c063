"""A small MLP without dropout (784-64-10): its training step is deterministic.

For checks that compare losses across device counts, such as data-parallel
training against one device, where dropout's random masks would differ.
"""

from __future__ import annotations

from typing import Any

from kerasbench.models import ModelInfo


def build(spec: Any, info: ModelInfo) -> Any:
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(info.input_shape(spec)),
            layers.Dense(64, activation="relu"),
            layers.Dense(info.num_classes, activation="softmax"),
        ],
        name="mlp_nodropout",
    )


MODELS = (
    ModelInfo(
        name="mlp_nodropout",
        description="Small MLP 784-64-10 without dropout (deterministic, for loss checks)",
        default_batch_size=32,
        input_kind="vector",
        num_classes=10,
        vector_size=784,
        optimizer="rmsprop",
        builder=build,
    ),
)
