"""Equal work, checked: native parameter counts and FLOPs beside the Keras model's, and the
copy of Keras weights into a native model (for the forward-output checks).

``native_work`` counts without running anything (torch on the meta device,
JAX through ``jax.eval_shape``), so a full ResNet50 costs a second.
``KNOWN_STATE_DIFFERENCES`` lists, with the reason, the non-trainable state that
differs on purpose; trainable parameters and FLOPs must be equal everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from kerasbench.native.common import ParamCounts

# (framework, model) -> (native non-trainable minus Keras non-trainable, why).
KNOWN_STATE_DIFFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("torch", "lstm"): (
        "4 * units",
        "nn.LSTM keeps b_hh beside b_ih; here it is a frozen zero, as the zero recurrent "
        "bias Keras gives cuDNN",
    ),
    ("torch", "efficientnet_b0"): (
        "-7",
        "Keras' B0 holds its input Normalization's mean, variance and count (3 + 3 + 1)",
    ),
}


@dataclass(frozen=True)
class NativeWork:
    """What one native model is made of and does per sample."""

    params: ParamCounts
    forward_flops_per_sample: int


def expected_state_difference(framework: str, model: str, hparams: Mapping[str, Any]) -> int:
    """Native minus Keras non-trainable values for ``model``, by KNOWN_STATE_DIFFERENCES."""
    rule = KNOWN_STATE_DIFFERENCES.get((framework, model))
    if rule is None:
        return 0
    if rule[0] == "4 * units":
        return 4 * int(hparams.get("units", 128))
    return int(rule[0])


def native_work(
    framework: str,
    model: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    hparams: Mapping[str, Any] | None = None,
) -> NativeWork:
    """Parameter counts and forward FLOPs of a native model, without allocating its weights."""
    hparams = dict(hparams or {})
    if framework == "torch":
        import torch

        from kerasbench.native import torch_models, torch_steps

        torch_models.import_torchvision(model)
        with torch.device("meta"):
            module = torch_models.build(model, input_shape, num_classes, hparams)
        macs = torch_steps.forward_macs(model, input_shape, num_classes, hparams)
        return NativeWork(torch_steps.count_params(module), 2 * macs)
    if framework == "jax":
        import jax
        import jax.numpy as jnp

        from kerasbench.native import jax_models, jax_steps

        module = jax_models.build(model, num_classes, hparams)
        sample = jnp.zeros((1, *input_shape), jnp.float32)
        variables = jax.eval_shape(lambda: module.init(jax.random.key(0), sample))

        def size(tree: Any) -> int:
            return sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(tree))

        counts = ParamCounts(size(variables["params"]), size(variables.get("batch_stats", {})))
        macs = jax_steps.forward_macs(module, input_shape, variables["params"])
        return NativeWork(counts, 2 * macs)
    raise ValueError(f"unknown native framework {framework!r}; valid: torch, jax")


# -- Keras weights into native models ---------------------------------------------------------
# Keras' get_weights() order for the two small models: kernel, bias per layer, input to output.


def keras_weights_to_torch(model: str, weights: list[np.ndarray], module: Any) -> None:
    """Copy mnist_mlp's or cifar10_cnn's Keras weights into the torch module, in place.

    Dense kernels (in, out) become Linear weights (out, in); conv kernels
    (H, W, in, out) become (out, in, H, W); the first dense layer after
    Flatten has its rows reordered from Keras' (H, W, C) to torch's (C, H, W).
    """
    import torch
    from torch import nn

    layers = [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if len(weights) != 2 * len(layers):
        raise ValueError(f"{model}: {len(weights)} Keras weights for {len(layers)} torch layers")
    last_conv_channels, flat_hw = None, None
    for layer, kernel, bias in zip(layers, weights[0::2], weights[1::2], strict=True):
        if isinstance(layer, nn.Conv2d):
            value = kernel.transpose(3, 2, 0, 1)
            last_conv_channels = kernel.shape[-1]
        elif last_conv_channels is not None and flat_hw is None:
            flat_hw = kernel.shape[0] // last_conv_channels
            side = int(round(flat_hw**0.5))
            rows = kernel.reshape(side, side, last_conv_channels, -1).transpose(2, 0, 1, 3)
            value = rows.reshape(kernel.shape).T
        else:
            value = kernel.T
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(value)))
            layer.bias.copy_(torch.from_numpy(bias))


def keras_weights_to_flax(model: str, weights: list[np.ndarray], params: Any) -> dict[str, Any]:
    """mnist_mlp's or cifar10_cnn's Keras weights as Flax params (same layouts: NHWC, HWIO)."""
    names = sorted(params, key=lambda n: (not n.startswith("Conv"), int(n.rsplit("_", 1)[1])))
    if len(weights) != 2 * len(names):
        raise ValueError(f"{model}: {len(weights)} Keras weights for {len(names)} Flax layers")
    return {
        name: {"kernel": kernel, "bias": bias}
        for name, kernel, bias in zip(names, weights[0::2], weights[1::2], strict=True)
    }
