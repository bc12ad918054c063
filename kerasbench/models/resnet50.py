"""ResNet50 v1 from keras.applications, random weights, 1000 classes.

224x224x3 by default; ``--image-size 256`` reproduces the seed's input. The
default batch of 32 is the seed's per-GPU batch.
"""

from __future__ import annotations

from typing import Any

from kerasbench.models import ModelInfo


def build(spec: Any, info: ModelInfo) -> Any:
    import keras

    return keras.applications.ResNet50(
        weights=None, input_shape=info.input_shape(spec), classes=info.num_classes
    )


MODELS = (
    ModelInfo(
        name="resnet50",
        description="ResNet50 v1 (keras.applications, weights=None, 1000 classes)",
        default_batch_size=32,
        input_kind="image",
        num_classes=1000,
        default_image_size=224,
        optimizer="momentum",
        builder=build,
    ),
    ModelInfo(
        name="resnet50_tiny",
        description="resnet50 at 32x32 with 10 classes (for tests)",
        default_batch_size=2,
        input_kind="image",
        num_classes=10,
        default_image_size=32,
        optimizer="momentum",
        builder=build,
        tiny_of="resnet50",
    ),
)
