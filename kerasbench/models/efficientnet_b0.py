"""EfficientNetB0 from keras.applications, random weights, 1000 classes, 224x224x3.

The model rescales its own inputs (a Rescaling and a Normalization layer come
first), so synthetic pixels in [0, 1) are as good as any. Default batch 32.
"""

from __future__ import annotations

from typing import Any

from kerasbench.models import ModelInfo, tiny_variant


def build(spec: Any, info: ModelInfo) -> Any:
    import keras

    return keras.applications.EfficientNetB0(
        weights=None, input_shape=info.input_shape(spec), classes=info.num_classes
    )


EFFICIENTNET_B0 = ModelInfo(
    name="efficientnet_b0",
    description="EfficientNetB0 (keras.applications, weights=None, 1000 classes)",
    default_batch_size=32,
    input_kind="image",
    num_classes=1000,
    default_image_size=224,
    optimizer="momentum",
    builder=build,
)
MODELS = (
    EFFICIENTNET_B0,
    tiny_variant(
        EFFICIENTNET_B0,
        "efficientnet_b0_tiny",
        "efficientnet_b0 at 32x32, 10 classes (tests)",
        default_image_size=32,
        num_classes=10,
    ),
)
