"""The classic Keras MNIST MLP (keras/examples/mnist_mlp.py): 784-512-512-10.

Dropout 0.2 after each hidden layer. Default batch 128, as in the example.
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
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(info.num_classes, activation="softmax"),
        ],
        name="mnist_mlp",
    )


MODELS = (
    ModelInfo(
        name="mnist_mlp",
        description="Classic Keras MNIST MLP 784-512-512-10 with dropout",
        default_batch_size=128,
        input_kind="vector",
        num_classes=10,
        vector_size=784,
        optimizer="rmsprop",
        builder=build,
    ),
)
