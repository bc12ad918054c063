"""The model registry: one module per model, looked up by name.

Model modules import Keras inside ``build`` only, so that listing models or
validating a suite never imports a framework.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kerasbench.spec import Spec


@dataclass(frozen=True)
class ModelInfo:
    """What the harness needs to know about a model without building it."""

    name: str
    description: str
    default_batch_size: int
    input_kind: str  # "image" or "vector"
    num_classes: int
    build: Callable[[Spec], Any]  # returns an uncompiled keras.Model
    default_image_size: int | None = None  # image models only
    vector_size: int | None = None  # vector models only

    def input_shape(self, spec: Spec) -> tuple[int, ...]:
        """Shape of one sample as the model receives it (no batch axis)."""
        if self.input_kind == "image":
            size = spec.image_size or self.default_image_size
            assert size is not None
            if spec.data_format == "channels_first":
                return (3, size, size)
            return (size, size, 3)
        assert self.vector_size is not None
        return (self.vector_size,)


def _registry() -> dict[str, ModelInfo]:
    from kerasbench.models import cifar10_cnn, mlp_nodropout, mnist_mlp, resnet50

    return {m.MODEL.name: m.MODEL for m in (resnet50, cifar10_cnn, mnist_mlp, mlp_nodropout)}


MODELS: dict[str, ModelInfo] = _registry()


def get_model(name: str) -> ModelInfo:
    """The model called ``name``; the error lists the valid names."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; valid: {', '.join(MODELS)}") from None
