"""The jax-native models: kerasbench's architectures in Flax (``flax.linen``), NHWC.

Written as Flax's own examples write them (examples/imagenet/models.py,
examples/mnist): ``nn.compact`` modules, ``train`` switching dropout and
batch-norm, ``partial`` for the conv and norm every block shares, and an
``nn.RNN`` over a cell for the recurrent models. Each returns logits; the
softmax that ends each Keras model is in the loss and in ``predict``.

Layer by layer the same as kerasbench/models/*.py; where Flax's defaults
differ from Keras', Keras wins (named where it happens): ResNet50 v1 with
convolution biases and Keras' batch-norm constants, and a GRU cell with both
biases as Keras' ``reset_after=True`` GRU.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

MODELS = ("mnist_mlp", "cifar10_cnn", "resnet50", "lstm", "gru")


class MnistMLP(nn.Module):
    """784-512-512-classes with ReLU and dropout 0.2, as kerasbench/models/mnist_mlp.py."""

    num_classes: int
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: Any, train: bool = False) -> Any:
        for _ in range(2):
            x = nn.relu(nn.Dense(512, dtype=self.dtype)(x))
            x = nn.Dropout(0.2, deterministic=not train)(x)
        return nn.Dense(self.num_classes, dtype=self.dtype)(x)


class Cifar10CNN(nn.Module):
    """The classic CIFAR-10 CNN, as kerasbench/models/cifar10_cnn.py (NHWC, as Keras)."""

    num_classes: int
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: Any, train: bool = False) -> Any:
        conv = partial(nn.Conv, kernel_size=(3, 3), dtype=self.dtype)
        for filters in (32, 64):
            x = nn.relu(conv(filters, padding="SAME")(x))
            x = nn.relu(conv(filters, padding="VALID")(x))
            x = nn.max_pool(x, (2, 2), strides=(2, 2))
            x = nn.Dropout(0.25, deterministic=not train)(x)
        x = x.reshape((x.shape[0], -1))  # (H, W, C) order, as Keras' Flatten
        x = nn.relu(nn.Dense(512, dtype=self.dtype)(x))
        x = nn.Dropout(0.5, deterministic=not train)(x)
        return nn.Dense(self.num_classes, dtype=self.dtype)(x)


class BottleneckBlock(nn.Module):
    """ResNet v1 bottleneck: the stride is on the first 1x1 convolution, as in Keras."""

    filters: int
    strides: tuple[int, int]
    conv: Callable[..., Any]
    norm: Callable[..., Any]

    @nn.compact
    def __call__(self, x: Any) -> Any:
        residual = x
        y = nn.relu(self.norm()(self.conv(self.filters, (1, 1), self.strides)(x)))
        y = nn.relu(self.norm()(self.conv(self.filters, (3, 3))(y)))
        y = self.norm()(self.conv(self.filters * 4, (1, 1))(y))
        if residual.shape != y.shape:
            residual = self.conv(self.filters * 4, (1, 1), self.strides, name="conv_proj")(residual)
            residual = self.norm(name="norm_proj")(residual)
        return nn.relu(residual + y)


class ResNet(nn.Module):
    """keras.applications' ResNet50 v1 in the shape of Flax's examples/imagenet ResNet."""

    stage_sizes: Sequence[int]
    num_classes: int
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: Any, train: bool = False) -> Any:
        # Keras' ResNet convolutions have biases; its batch norm: momentum 0.99, eps 1.001e-5.
        conv = partial(nn.Conv, use_bias=True, dtype=self.dtype)
        norm = partial(
            nn.BatchNorm,
            use_running_average=not train,
            momentum=0.99,
            epsilon=1.001e-5,
            dtype=self.dtype,
        )
        x = conv(64, (7, 7), (2, 2), padding=[(3, 3), (3, 3)], name="conv_init")(x)
        x = nn.relu(norm(name="bn_init")(x))
        # Keras pads by one, then pools without padding; after a ReLU, zeros pad as -inf does.
        x = nn.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
        for i, block_size in enumerate(self.stage_sizes):
            for j in range(block_size):
                strides = (2, 2) if i > 0 and j == 0 else (1, 1)
                x = BottleneckBlock(64 * 2**i, strides, conv=conv, norm=norm)(x)
        x = jnp.mean(x, axis=(1, 2))
        return nn.Dense(self.num_classes, dtype=self.dtype)(x)


class KerasGRUCell(nn.GRUCell):
    """Flax's GRUCell with a bias on every recurrent projection, as Keras' reset_after GRU.

    Flax drops the recurrent biases of the r and z gates (they add to the
    input biases); Keras and cuDNN keep them, so the parameter counts differ
    by 2 x units without this.
    """

    @nn.compact
    def __call__(self, carry: Any, inputs: Any) -> tuple[Any, Any]:
        h = carry
        dense = partial(
            nn.Dense,
            features=h.shape[-1],
            use_bias=True,
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            bias_init=self.bias_init,
        )
        dense_i = partial(dense, kernel_init=self.kernel_init)
        dense_h = partial(dense, kernel_init=self.recurrent_kernel_init)
        r = self.gate_fn(dense_i(name="ir")(inputs) + dense_h(name="hr")(h))
        z = self.gate_fn(dense_i(name="iz")(inputs) + dense_h(name="hz")(h))
        n = self.activation_fn(dense_i(name="in")(inputs) + r * dense_h(name="hn")(h))
        new_h = (1.0 - z) * n + z * h
        return new_h, new_h


class RecurrentClassifier(nn.Module):
    """One LSTM or GRU layer, its last step into a dense layer, as kerasbench/models/lstm.py."""

    cell: str
    units: int
    num_classes: int
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: Any, train: bool = False) -> Any:
        cells = {"lstm": nn.OptimizedLSTMCell, "gru": KerasGRUCell}
        # The cell is a child of this module (its parameters: params["cell"]); nn.RNN scans it.
        cell = cells[self.cell](self.units, dtype=self.dtype, name="cell")
        outputs = nn.RNN(cell)(x)
        return nn.Dense(self.num_classes, dtype=self.dtype)(outputs[:, -1])


def build(
    name: str,
    num_classes: int,
    hparams: Mapping[str, Any] | None = None,
    dtype: Any = jnp.float32,
) -> nn.Module:
    """The Flax module for ``name``; ``dtype`` is the compute dtype (parameters stay float32)."""
    if name not in MODELS:
        raise ValueError(f"no jax-native model {name!r}; valid: {', '.join(MODELS)}")
    if name == "mnist_mlp":
        return MnistMLP(num_classes, dtype=dtype)
    if name == "cifar10_cnn":
        return Cifar10CNN(num_classes, dtype=dtype)
    if name == "resnet50":
        return ResNet((3, 4, 6, 3), num_classes, dtype=dtype)
    units = dict(hparams or {}).get("units", 128)
    return RecurrentClassifier(name, units, num_classes, dtype=dtype)
