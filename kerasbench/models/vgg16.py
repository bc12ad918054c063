"""VGG16 from keras.applications, random weights, 1000 classes, 224x224x3.

The parent suite of the seed benchmarked it; 138M parameters, most of them in
the two 4096-wide dense layers. Default batch 32, like resnet50.
"""

from __future__ import annotations

from typing import Any

from kerasbench.models import ModelInfo, tiny_variant


def build(spec: Any, info: ModelInfo) -> Any:
    import keras

    return keras.applications.VGG16(
        weights=None, input_shape=info.input_shape(spec), classes=info.num_classes
    )


VGG16 = ModelInfo(
    name="vgg16",
    description="VGG16 (keras.applications, weights=None, 1000 classes)",
    default_batch_size=32,
    input_kind="image",
    num_classes=1000,
    default_image_size=224,
    optimizer="momentum",
    builder=build,
)
MODELS = (
    VGG16,
    tiny_variant(
        VGG16,
        "vgg16_tiny",
        "vgg16 at 32x32, 10 classes (tests)",
        default_image_size=32,
        num_classes=10,
    ),
)
