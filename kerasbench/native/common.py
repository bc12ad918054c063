"""What the torch and JAX sides share: a runner's configuration, precisions, parameter
counts, sample layouts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# The Spec's precisions: float32, or a Keras mixed policy (float32 weights, 16-bit compute).
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


@dataclass(frozen=True)
class NativeConfig:
    """What a native runner (``TorchNative``, ``FlaxNative``) is built from; see ``make_native``."""

    name: str  # a native model name (``native_name``)
    input_shape: tuple[int, ...]  # one sample, in the framework's layout
    num_classes: int
    hparams: Mapping[str, Any] = field(default_factory=dict)
    precision: str = "float32"
    optimizer: str = "sgd"
    learning_rate: float | None = None  # None: Keras' default for ``optimizer``
    compile: str = "eager"
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            valid = ", ".join(PRECISIONS)
            raise ValueError(f"unknown precision {self.precision!r}; valid: {valid}")
        object.__setattr__(self, "input_shape", tuple(self.input_shape))
        object.__setattr__(self, "hparams", dict(self.hparams or {}))


class ParamCounts(NamedTuple):
    """A model's trainable parameters and its non-trainable state (e.g. batch-norm statistics).

    Keras' ``count_params()`` is their sum; comparing the two parts separately
    catches a parameter that moved from one side to the other.
    """

    trainable: int
    non_trainable: int

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable


def image_shape(framework: str, size: int, channels: int = 3) -> tuple[int, int, int]:
    """One image sample in the framework's own layout: NCHW for torch, NHWC for JAX."""
    if framework == "torch":
        return (channels, size, size)
    return (size, size, channels)
