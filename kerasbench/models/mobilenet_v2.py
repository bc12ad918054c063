"""MobileNetV2 (width 1.0) from keras.applications, random weights, 1000 classes, 224x224x3.

Depthwise convolutions: a different kernel mix from resnet50 and vgg16. Default batch 32.
"""

from __future__ import annotations

from typing import Any

from kerasbench.models import ModelInfo, tiny_variant


def build(spec: Any, info: ModelInfo) -> Any:
    import keras

    return keras.applications.MobileNetV2(
        weights=None, input_shape=info.input_shape(spec), classes=info.num_classes
    )


MOBILENET_V2 = ModelInfo(
    name="mobilenet_v2",
    description="MobileNetV2 alpha 1.0 (keras.applications, weights=None, 1000 classes)",
    default_batch_size=32,
    input_kind="image",
    num_classes=1000,
    default_image_size=224,
    optimizer="momentum",
    builder=build,
)
MODELS = (
    MOBILENET_V2,
    tiny_variant(
        MOBILENET_V2,
        "mobilenet_v2_tiny",
        "mobilenet_v2 at 32x32, 10 classes (tests)",
        default_image_size=32,
        num_classes=10,
    ),
)
