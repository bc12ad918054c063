"""A GPT-2-small-shaped decoder-only causal language model built from Keras layers.

12 pre-LayerNorm blocks, hidden 768, 12 heads, MLP 3072 (tanh GELU), causal
self-attention, learned positions, vocabulary 50257 (GPT-2's) and an output
head tied to the token embedding: 124M parameters at sequence 256 (the default;
``--seq-len``). Training predicts the next token at every position
(``target="next_token"``); ``predict`` is one forward pass and returns every
position's logits to the host, as ``model.predict`` does (batch 8 x 256 x
50257 float32 logits are 412 MB per batch).

``generate`` (see ``generation_model``) decodes greedily: the prompt is the
first half of the sequence, the model writes the second half one token at a
time. There is no KV cache: each new token is a full forward pass over the
fixed-length, zero-padded sequence, and a position index picks the logits of
the last written token, so the per-token step compiles once and never retraces.
"""

from __future__ import annotations

from typing import Any

from kerasbench.models import ModelInfo, tiny_variant
from kerasbench.models._transformer import layers as tlayers


def build(spec: Any, info: ModelInfo) -> Any:
    import keras
    from keras import layers

    t = tlayers()
    hp = info.hparams
    hidden, heads, length = hp["hidden"], hp["heads"], info.seq_len(spec)
    tokens = keras.Input((length,), dtype="int32", name="tokens")
    embedding = layers.Embedding(
        info.vocab_size, hidden, embeddings_initializer=t.init, name="token_embedding"
    )
    x = embedding(tokens)
    x = t.PositionEmbedding(length, hidden, name="position_embedding")(x)
    x = layers.Dropout(0.1)(x)
    for i in range(hp["layers"]):
        h = layers.LayerNormalization(epsilon=1e-5)(x)
        h = layers.MultiHeadAttention(
            heads, hidden // heads, dropout=0.1, kernel_initializer=t.init, name=f"attention_{i}"
        )(h, h, use_causal_mask=True)
        x = x + layers.Dropout(0.1)(h)
        h = layers.LayerNormalization(epsilon=1e-5)(x)
        h = t.dense(4 * hidden, activation=keras.activations.gelu)(h)
        h = layers.Dropout(0.1)(t.dense(hidden)(h))
        x = x + h
    x = layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    backbone = keras.Model(tokens, x, name="backbone")
    # The tied head in float32, so that logits and the loss stay float32 under mixed precision.
    head = t.TiedHead(embedding, dtype="float32", name="lm_head")
    inputs = keras.Input((length,), dtype="int32", name="tokens")
    return keras.Model(inputs, head(backbone(inputs)), name=info.name)


def generation_model(lm: Any) -> Any:
    """A model (tokens, position) -> greedy next token after ``position``; shares ``lm``'s weights.

    ``tokens`` is the whole fixed-length buffer (int32, (batch, length)) and
    ``position`` (int32, (batch,)) the index of the last token written; later
    positions may hold anything, the causal mask hides them.
    """
    import keras

    t = tlayers()
    backbone, head = lm.get_layer("backbone"), lm.get_layer("lm_head")
    length = backbone.input.shape[1]
    tokens = keras.Input((length,), dtype="int32", name="tokens")
    position = keras.Input((), dtype="int32", name="position")
    last = t.PickPosition(name="pick_position")(backbone(tokens), position)
    next_token = keras.ops.argmax(head(last), axis=-1)
    return keras.Model([tokens, position], next_token, name=f"{lm.name}_generate")


GPT_SMALL = ModelInfo(
    name="gpt_small",
    description="GPT-2-small-shaped causal LM: 12 layers, hidden 768, 12 heads, 124M params",
    default_batch_size=8,
    input_kind="tokens",
    num_classes=50257,
    vocab_size=50257,
    default_seq_len=256,
    target="next_token",
    from_logits=True,
    hparams={"layers": 12, "hidden": 768, "heads": 12},
    builder=build,
)
MODELS = (
    GPT_SMALL,
    tiny_variant(
        GPT_SMALL,
        "gpt_tiny",
        "gpt_small shape at 2 layers, hidden 64, 2 heads, vocab 512, sequence 32 (tests)",
        num_classes=512,
        vocab_size=512,
        default_seq_len=32,
        hparams={"layers": 2, "hidden": 64, "heads": 2},
    ),
)
