"""A BERT-base-shaped encoder built from Keras layers, as a sequence classifier.

12 post-LayerNorm blocks, hidden 768, 12 heads, intermediate 3072 (exact GELU),
dropout 0.1, vocabulary 30522, learned positions; the pooler (tanh dense on the
first token) and a 2-class head, as in BERT fine-tuning, the workload Keras
users run most. No segment embedding (a constant for single-segment input) and
no padding mask (synthetic sequences are full). Sequence 128 by default
(``--seq-len``); batch 32. ``bert_tiny`` is Google's BERT-Tiny shape (2 layers,
hidden 128, 2 heads, intermediate 512).
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
    x = layers.Embedding(info.vocab_size, hidden, embeddings_initializer=t.init)(tokens)
    x = t.PositionEmbedding(length, hidden, name="position_embedding")(x)
    x = layers.LayerNormalization(epsilon=1e-12)(x)
    x = layers.Dropout(0.1)(x)
    for i in range(hp["layers"]):
        attention = layers.MultiHeadAttention(
            heads, hidden // heads, dropout=0.1, kernel_initializer=t.init, name=f"attention_{i}"
        )(x, x)
        x = layers.LayerNormalization(epsilon=1e-12)(x + layers.Dropout(0.1)(attention))
        ff = t.dense(hp["intermediate"], activation="gelu")(x)
        ff = layers.Dropout(0.1)(t.dense(hidden)(ff))
        x = layers.LayerNormalization(epsilon=1e-12)(x + ff)
    pooled = t.dense(hidden, activation="tanh", name="pooler")(x[:, 0, :])
    # float32 logits under mixed precision, so the loss is computed in float32.
    logits = t.dense(info.num_classes, dtype="float32", name="classifier")(
        layers.Dropout(0.1)(pooled)
    )
    return keras.Model(tokens, logits, name=info.name)


BERT_BASE = ModelInfo(
    name="bert_base",
    description="BERT-base-shaped encoder classifier: 12 layers, hidden 768, 12 heads, 109M params",
    default_batch_size=32,
    input_kind="tokens",
    num_classes=2,
    vocab_size=30522,
    default_seq_len=128,
    from_logits=True,
    hparams={"layers": 12, "hidden": 768, "heads": 12, "intermediate": 3072},
    builder=build,
)
MODELS = (
    BERT_BASE,
    tiny_variant(
        BERT_BASE,
        "bert_tiny",
        "BERT-Tiny-shaped encoder classifier: 2 layers, hidden 128, 2 heads, 4.4M params",
        hparams={"layers": 2, "hidden": 128, "heads": 2, "intermediate": 512},
    ),
)
