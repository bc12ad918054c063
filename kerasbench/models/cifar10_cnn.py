"""The classic Keras CIFAR-10 CNN (keras/examples/cifar10_cnn.py).

conv32, conv32, pool, dropout, conv64, conv64, pool, dropout, dense512,
dropout, dense10 on 32x32x3 inputs. Default batch 32, as in the example.
"""

from __future__ import annotations

from typing import Any

from kerasbench.models import ModelInfo


def build(spec: Any, info: ModelInfo) -> Any:
    import keras
    from keras import layers

    fmt = spec.data_format
    return keras.Sequential(
        [
            keras.Input(info.input_shape(spec)),
            layers.Conv2D(32, 3, padding="same", activation="relu", data_format=fmt),
            layers.Conv2D(32, 3, activation="relu", data_format=fmt),
            layers.MaxPooling2D(2, data_format=fmt),
            layers.Dropout(0.25),
            layers.Conv2D(64, 3, padding="same", activation="relu", data_format=fmt),
            layers.Conv2D(64, 3, activation="relu", data_format=fmt),
            layers.MaxPooling2D(2, data_format=fmt),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(info.num_classes, activation="softmax"),
        ],
        name="cifar10_cnn",
    )


MODELS = (
    ModelInfo(
        name="cifar10_cnn",
        description="Classic Keras CIFAR-10 CNN (4 conv, 2 dense, dropout), 32x32x3",
        default_batch_size=32,
        input_kind="image",
        num_classes=10,
        default_image_size=32,
        optimizer="rmsprop",
        builder=build,
    ),
)
