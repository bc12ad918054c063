"""Analytic forward FLOPs of a built Keras model, counted layer by layer.

Convention: one multiply-add (MAC) = 2 FLOPs. Only the matrix-like work is
counted: Dense, EinsumDense, convolutions (plain, transposed, depthwise,
separable), recurrent layers (LSTM, GRU, SimpleRNN: input and recurrent
kernels at every time step), and attention's score and value products
(MultiHeadAttention's projections are its own EinsumDense sub-layers, counted
as such). Bias additions, activations, normalisation, pooling, softmax,
embedding lookups and other elementwise work are not counted, as in the usual
"ResNet50 = 4.1 GMACs" figure; they are a few percent of any model here.
A training step is taken as 3x the forward FLOPs (forward, then gradients
with respect to activations and to weights).

How: one forward pass of a single sample (batch 1) with every layer's
``call`` wrapped to note the shapes it sees, so shared layers, nested models
and sub-layers called inside other layers are all seen, on every backend.
It runs after the timed windows and restores every layer afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Layers with weights that do no matrix-like work (their cost is elementwise).
ELEMENTWISE_WITH_WEIGHTS = frozenset(
    {
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "RMSNormalization",
        "UnitNormalization",
        "Normalization",
        "Embedding",
        "PositionEmbedding",  # a learned lookup (the zoo's transformers, keras_hub)
        "PReLU",
        "LlamaLayerNorm",  # keras_hub's RMS norms under their own names
        "MistralLayerNormalization",
    }
)


@dataclass
class FlopCount:
    """Forward multiply-adds of one sample, and what could not be counted."""

    macs: int = 0
    by_layer_type: dict[str, int] = field(default_factory=dict)
    uncounted: list[str] = field(default_factory=list)  # layers with weights and no rule

    @property
    def flops(self) -> int:
        return 2 * self.macs

    def add(self, kind: str, macs: int) -> None:
        self.macs += macs
        self.by_layer_type[kind] = self.by_layer_type.get(kind, 0) + macs


def _shape(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    shape = getattr(value, "shape", None)
    return None if shape is None else tuple(int(d) for d in shape)


def _size(shape: tuple[int, ...] | None) -> int:
    return math.prod(shape) if shape else 0


def _kernel_shape(layer: Any, name: str = "kernel") -> tuple[int, ...]:
    return tuple(int(d) for d in getattr(layer, name).shape)


def _einsum_macs(equation: str, in_shape: tuple[int, ...], kernel: tuple[int, ...], out) -> int:
    """MACs of ``input, kernel -> output``: output size times the contracted dimensions."""
    inputs, output = equation.replace(" ", "").split("->")
    left, right = inputs.split(",")
    contracted = (set(left) | set(right)) - set(output) - {"."}
    sizes: dict[str, int] = {}
    for letters, shape in ((left, in_shape), (right, kernel)):
        letters = letters.replace("...", "")
        # Named letters align with the trailing dimensions when there is an ellipsis.
        for letter, dim in zip(reversed(letters), reversed(shape), strict=False):
            sizes[letter] = dim
    return _size(out) * math.prod(sizes[c] for c in contracted)


def _rule(layer: Any, keras: Any) -> tuple[str, bool] | None:
    """(kind, leaf) for a layer that does counted work; leaf: its inner calls are not counted."""
    L = keras.layers
    for cls, kind in (
        (L.Conv1DTranspose, "conv_transpose"),
        (L.Conv2DTranspose, "conv_transpose"),
        (L.Conv3DTranspose, "conv_transpose"),
        (L.DepthwiseConv1D, "depthwise_conv"),
        (L.DepthwiseConv2D, "depthwise_conv"),
        (L.SeparableConv1D, "separable_conv"),
        (L.SeparableConv2D, "separable_conv"),
        (L.Conv1D, "conv"),
        (L.Conv2D, "conv"),
        (L.Conv3D, "conv"),
        (L.Dense, "dense"),
        (L.EinsumDense, "einsum_dense"),
        (L.RNN, "recurrent"),
        (L.Embedding, "embedding"),
    ):
        if isinstance(layer, cls):
            return kind, True
    if isinstance(layer, L.MultiHeadAttention):
        return "attention", False
    if isinstance(layer, L.Attention):
        return "dot_attention", False
    if type(layer).__name__.endswith("Attention") and _heads(layer):
        return "hub_attention", False  # keras_hub's LLM attention: einsum scores and values
    return None


def _heads(layer: Any) -> int | None:
    """Query heads of a keras_hub attention layer (Gemma, Llama, Mistral name them so)."""
    return getattr(layer, "num_query_heads", None) or getattr(layer, "_num_query_heads", None)


def _macs(kind: str, layer: Any, args: tuple, kwargs: dict, out_shape) -> int:
    """Multiply-adds of one call of ``layer`` (batch 1)."""
    in_shape = _shape(args[0] if args else next(iter(kwargs.values()), None))
    if kind == "dense":
        kernel = _kernel_shape(layer)
        return _size(out_shape) // kernel[-1] * kernel[0] * kernel[1]
    if kind == "einsum_dense":
        return _einsum_macs(layer.equation, in_shape, _kernel_shape(layer), out_shape)
    if kind == "conv":
        # kernel (*window, in_channels / groups, filters): each output value is one dot product.
        return _size(out_shape) * math.prod(_kernel_shape(layer)[:-1])
    if kind == "conv_transpose":
        # kernel (*window, filters, in_channels): each input value scatters into window x filters.
        return _size(in_shape) * math.prod(_kernel_shape(layer)[:-1])
    if kind == "depthwise_conv":
        window = _kernel_shape(layer, "kernel")[:-2]
        return _size(out_shape) * math.prod(window)
    if kind == "separable_conv":
        depthwise = _kernel_shape(layer, "depthwise_kernel")  # (*window, in, multiplier)
        pointwise = _kernel_shape(layer, "pointwise_kernel")  # (1.., in*multiplier, filters)
        positions = _size(out_shape) // pointwise[-1]
        return positions * (math.prod(depthwise) + pointwise[-2] * pointwise[-1])
    if kind == "recurrent":
        cell = layer.cell
        steps = in_shape[1]
        per_step = _size(_kernel_shape(cell, "kernel")) + _size(
            _kernel_shape(cell, "recurrent_kernel")
        )
        return steps * per_step
    if kind == "embedding":
        # keras_hub's ReversibleEmbedding(reverse=True) is the LM head: hidden x vocab per token
        if kwargs.get("reverse") or (len(args) > 1 and args[1] is True):
            return _size(in_shape) * layer.input_dim
        return 0
    if kind == "hub_attention":
        # scores Q K^T and the weighted sum of values over the whole (causal) sequence
        heads, t = _heads(layer), in_shape[1]
        head_dim = getattr(layer, "head_dim", None) or getattr(layer, "_head_dim", None)
        head_dim = head_dim or in_shape[-1] // heads
        return heads * t * t * 2 * head_dim
    if kind == "attention":
        query = _shape(args[0] if args else kwargs.get("query"))
        value = _shape(args[1] if len(args) > 1 else kwargs.get("value"))
        t_q, t_k = math.prod(query[1:-1]), math.prod(value[1:-1])
        heads, key_dim = layer.num_heads, layer.key_dim
        value_dim = layer.value_dim or key_dim
        # scores = Q K^T, then the weighted sum of values, for every head.
        return heads * t_q * t_k * (key_dim + value_dim)
    if kind == "dot_attention":
        inputs = args[0] if args else kwargs.get("inputs")
        query, value = _shape(inputs[0]), _shape(inputs[1])
        t_q, t_v, dim = math.prod(query[1:-1]), math.prod(value[1:-1]), query[-1]
        return t_q * t_v * (dim + value[-1])
    raise ValueError(f"no rule for {kind}")


def _trace(model: Any, sample: Any) -> None:
    """Run ``model`` on ``sample`` abstractly (shapes only) where the backend can, else eagerly.

    Abstract tracing (``jax.eval_shape``, a TF graph, torch's meta tensors)
    takes a second where an eager op-by-op pass of ResNet50 takes tens.
    """
    import keras

    try:
        from keras.src.backend import compute_output_spec

        spec = keras.KerasTensor(tuple(sample.shape), dtype=str(sample.dtype))
        compute_output_spec(lambda x: model(x, training=False), spec)
    except Exception:  # a private helper: fall back to a real forward pass
        model(sample, training=False)


def count_forward(model: Any, sample: Any) -> FlopCount:
    """Forward MACs per sample of ``model``, from one forward pass of ``sample`` (batch 1)."""
    import keras

    count = FlopCount()
    stack: list[bool] = []  # True where the enclosing counted layer is a leaf
    layers = [layer for layer in model._flatten_layers(include_self=False, recursive=True)]

    def wrap(layer: Any, original: Callable[..., Any]) -> Callable[..., Any]:
        rule = _rule(layer, keras)

        def call(*args: Any, **kwargs: Any) -> Any:
            inside_leaf = any(stack)
            stack.append(bool(rule and rule[1]))
            try:
                out = original(*args, **kwargs)
            finally:
                stack.pop()
            if rule and not inside_leaf:
                count.add(rule[0], _macs(rule[0], layer, args, kwargs, _shape(out)))
            return out

        return call

    patched = []
    try:
        for layer in layers:
            object.__setattr__(layer, "call", wrap(layer, layer.call))
            patched.append(layer)
        _trace(model, sample)
    finally:
        for layer in patched:
            del layer.__dict__["call"]

    # Sub-layers of a counted leaf (an LSTM's cell) are covered by the leaf's rule.
    covered = {
        id(inner)
        for layer in layers
        if (_rule(layer, keras) or ("", False))[1]
        for inner in layer._flatten_layers(include_self=False, recursive=True)
    }
    for layer in layers:
        if id(layer) in covered:
            continue
        name = type(layer).__name__
        own_weights = getattr(layer, "_trainable_variables", []) + getattr(
            layer, "_non_trainable_variables", []
        )
        if own_weights and not _rule(layer, keras) and name not in ELEMENTWISE_WITH_WEIGHTS:
            count.uncounted.append(f"{layer.name} ({name})")
    return count
