"""What the torch and JAX sides share: precisions, parameter counts, sample layouts."""

from __future__ import annotations

from typing import NamedTuple

# The Spec's precisions: float32, or a Keras mixed policy (float32 weights, 16-bit compute).
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


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
