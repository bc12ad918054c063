"""Analytic FLOPs: exact on small models, ~3.86 GMACs for Keras' ResNet50 v1 at 224x224."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from kerasbench.models import get_model
from kerasbench.spec import Spec
from kerasbench.worker.flops import count_forward

keras = pytest.importorskip("keras")


def macs_of(name: str) -> tuple[int, list[str]]:
    spec = Spec(model=name, backend=keras.backend.backend()).resolved()
    info = get_model(name)
    model = info.build(spec)
    counted = count_forward(model, np.zeros((1, *info.input_shape(spec)), "float32"))
    return counted.macs, counted.uncounted


def test_mnist_mlp_is_exact() -> None:
    macs, uncounted = macs_of("mnist_mlp")
    assert macs == 784 * 512 + 512 * 512 + 512 * 10
    assert uncounted == []


def test_resnet50_v1() -> None:
    # Keras' ResNet50 is v1 (stride 2 in the first 1x1 convolution of a stage): 3.86 G
    # multiply-adds, the "3.8 x 10^9 FLOPs" of He et al. 2015. The often quoted 4.1 G is
    # torchvision's v1.5, which strides the 3x3 instead. XLA's own cost analysis of
    # this model gives 3.75 G multiply-add equivalents (it skips the zero padding).
    macs, uncounted = macs_of("resnet50")
    assert macs == pytest.approx(3.86e9, rel=0.01)
    assert macs == pytest.approx(4.1e9, rel=0.07)
    assert uncounted == []


def test_every_layer_type_matches_its_formula() -> None:
    L = keras.layers
    image = keras.Input((16, 16, 8))
    x = L.Conv2D(12, 3, padding="same")(image)  # 16*16*12 * 3*3*8
    x = L.BatchNormalization()(x)  # elementwise: 0
    x = L.DepthwiseConv2D(3, depth_multiplier=2)(x)  # 14*14*24 * 9
    x = L.SeparableConv2D(10, 3)(x)  # 12*12 * (9*24 + 24*10)
    x = L.Conv2DTranspose(4, 2, strides=2)(x)  # 12*12*10 * 2*2*4
    x = L.MaxPooling2D()(x)
    image_out = L.GlobalAveragePooling2D()(x)

    tokens = keras.Input((6,), dtype="int32")
    e = L.Embedding(50, 16)(tokens)  # lookup: 0
    e = L.Conv1D(16, 3, padding="same")(e)  # 6*16 * 3*16
    attention = L.MultiHeadAttention(num_heads=2, key_dim=8)
    a = attention(e, e)  # q,k,v: 3 * 6*16*16, out: 6*16*16, scores+values: 2*6*6*(8+8)
    a = L.LayerNormalization()(a)
    r = L.LSTM(5, return_sequences=True)(a)  # 6 * 4*5*(16+5)
    r = L.GRU(3)(r)  # 6 * 3*3*(5+3) (+ reset_after bias: no MACs)
    b = L.Bidirectional(L.SimpleRNN(2))(a)  # 2 * 6 * 2*(16+2)
    merged = L.Concatenate()([image_out, r, b])
    out = L.Dense(7)(merged)  # (4+3+4) * 7
    model = keras.Model([image, tokens], out)

    expected = {
        "conv": 16 * 16 * 12 * 3 * 3 * 8 + 6 * 16 * 3 * 16,
        "depthwise_conv": 14 * 14 * 24 * 9,
        "separable_conv": 12 * 12 * (9 * 24 + 24 * 10),
        "conv_transpose": 12 * 12 * 10 * 2 * 2 * 4,
        "einsum_dense": 4 * 6 * 16 * 16,
        "attention": 2 * 6 * 6 * (8 + 8),
        "recurrent": 6 * 4 * 5 * (16 + 5) + 6 * 3 * 3 * (5 + 3) + 2 * 6 * 2 * (16 + 2),
        "dense": 11 * 7,
        "embedding": 0,
    }
    sample = [np.zeros((1, 16, 16, 8), "float32"), np.zeros((1, 6), "int32")]
    counted = count_forward(model, sample)
    assert counted.by_layer_type == expected
    assert counted.macs == sum(expected.values())
    assert counted.flops == 2 * counted.macs
    assert counted.uncounted == []
    # The model still runs normally afterwards (every layer's call restored).
    assert model.predict(sample, verbose=0).shape == (1, 7)


def test_unknown_layers_with_weights_are_listed() -> None:
    class Scale(keras.layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.w

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(Scale(name="scale")(inputs)))
    counted = count_forward(model, np.zeros((1, 4), "float32"))
    assert counted.macs == 8
    assert counted.uncounted == ["scale (Scale)"]


@pytest.mark.skipif(importlib.util.find_spec("keras_hub") is None, reason="keras_hub missing")
def test_keras_hub_causal_lm_counts_attention_and_the_lm_head() -> None:
    """hub_gemma_tiny: 2 layers, 32 tokens, hidden 64, 2 query heads of 32, vocab 256."""
    info = get_model("hub_gemma_tiny")
    model = info.build(None)
    sample = info.make_inputs(info, None, 1, np.random.default_rng(0))
    counted = count_forward(model, sample)
    per_token_layer = 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 64  # q, k+v, o, gated FFN
    attention = 2 * 32 * 32 * 2 * 32  # heads x T x T x (scores + values) x head_dim
    expected = 2 * (32 * per_token_layer + attention) + 32 * 64 * 256  # + the LM head
    assert counted.macs == expected
    assert counted.uncounted == []
