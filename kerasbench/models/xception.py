"""Xception from keras.applications, random weights, 1000 classes, 299x299x3.

The architecture needs images of at least 71x71 (``--image-size`` below that is
refused before anything runs). Default batch 32, like resnet50.
"""

from __future__ import annotations

from typing import Any

from kerasbench.models import ModelInfo, tiny_variant


def build(spec: Any, info: ModelInfo) -> Any:
    import keras

    return keras.applications.Xception(
        weights=None, input_shape=info.input_shape(spec), classes=info.num_classes
    )


XCEPTION = ModelInfo(
    name="xception",
    description="Xception (keras.applications, weights=None, 1000 classes)",
    default_batch_size=32,
    input_kind="image",
    num_classes=1000,
    default_image_size=299,
    min_image_size=71,
    optimizer="momentum",
    builder=build,
)
MODELS = (
    XCEPTION,
    tiny_variant(
        XCEPTION,
        "xception_tiny",
        "xception at 71x71 (its minimum), 10 classes (tests)",
        default_image_size=71,
        num_classes=10,
    ),
)
