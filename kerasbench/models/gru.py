"""The lstm task with a GRU(128) instead: 40 steps of 60 features, 60 classes, batch 128."""

from __future__ import annotations

from kerasbench.models import ModelInfo, tiny_variant
from kerasbench.models.lstm import build

GRU = ModelInfo(
    name="gru",
    description="GRU(128) over 40x60 synthetic sequences, 60 classes",
    default_batch_size=128,
    input_kind="sequence",
    num_classes=60,
    vector_size=60,
    default_seq_len=40,
    hparams={"cell": "gru", "units": 128},
    optimizer="rmsprop",
    builder=build,
)
MODELS = (
    GRU,
    tiny_variant(
        GRU,
        "gru_tiny",
        "gru with 16 units over 8x8 sequences, 8 classes (tests)",
        num_classes=8,
        vector_size=8,
        default_seq_len=8,
        hparams={"cell": "gru", "units": 16},
    ),
)
