"""Keras Hub's BertTextClassifier built from its classes (random weights, no preprocessor).

Inputs are what the task takes without its tokenizer: ``token_ids``, ``segment_ids``
and ``padding_mask`` (int32, (batch, length)); the output is ``num_classes`` logits.
``hub_bert_base`` is BERT-base (12 layers, hidden 768, 12 heads, 109.5M parameters with
the 2-class head), sequence 512 as keras.io's benchmark ran it (``--seq-len``);
``hub_bert_tiny`` is the same classes at BERT-Tiny's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasbench.models import ModelInfo, tiny_variant


def build(spec: Any, info: ModelInfo) -> Any:
    """The BertTextClassifier for ``info``; positions cover ``max(seq_len, 512)``."""
    import keras_hub

    config = dict(info.hparams["config"])
    length = info.seq_len(spec) if spec is not None else info.default_seq_len
    config["max_sequence_length"] = max(config["max_sequence_length"], length)
    backbone = keras_hub.models.BertBackbone(**config)
    return keras_hub.models.BertTextClassifier(
        backbone=backbone, num_classes=info.num_classes, preprocessor=None
    )


def inputs(info: ModelInfo, spec: Any, batch_size: int, rng: np.random.Generator) -> dict:
    """Full single-segment sequences of random ids below the vocabulary."""
    length = info.seq_len(spec) if spec is not None else info.default_seq_len
    assert info.vocab_size is not None and length is not None
    shape = (batch_size, length)
    return {
        "token_ids": rng.integers(0, info.vocab_size, shape, dtype="int32"),
        "segment_ids": np.zeros(shape, dtype="int32"),
        "padding_mask": np.ones(shape, dtype="int32"),
    }


BERT_BASE = ModelInfo(
    name="hub_bert_base",
    description="Keras Hub BertTextClassifier, BERT-base config (12 layers, hidden 768), 109.5M",
    default_batch_size=32,
    input_kind="tokens",
    num_classes=2,
    vocab_size=30522,
    default_seq_len=512,
    from_logits=True,
    hparams={
        "config": {
            "vocabulary_size": 30522,
            "num_layers": 12,
            "num_heads": 12,
            "hidden_dim": 768,
            "intermediate_dim": 3072,
            "max_sequence_length": 512,
        }
    },
    optimizer="adamw",
    make_inputs=inputs,
    builder=build,
)
MODELS = (
    BERT_BASE,
    tiny_variant(
        BERT_BASE,
        "hub_bert_tiny",
        "hub_bert_base classes at BERT-Tiny shape (2 layers, hidden 128), vocab 512, seq 32",
        vocab_size=512,
        default_seq_len=32,
        hparams={
            "config": {
                "vocabulary_size": 512,
                "num_layers": 2,
                "num_heads": 2,
                "hidden_dim": 128,
                "intermediate_dim": 512,
                "max_sequence_length": 32,
            }
        },
    ),
)
