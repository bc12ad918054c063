"""The seed suite's synthetic LSTM: one LSTM(128) over 40 steps of 60 features, 60 classes.

As in keras-mxnet's ``lstm_synthetic`` benchmark (inputs 40x60, LSTM 128, a
softmax over 60 classes, batch 128), except that the layer is not unrolled: the
seed passed ``unroll=True`` (keras-mxnet needed it); Keras 3 users run the
fused kernel that ``unroll=False`` selects (cuDNN on GPUs). ``--seq-len``
changes the number of steps.
"""

from __future__ import annotations

from typing import Any

from kerasbench.models import ModelInfo, tiny_variant


def build(spec: Any, info: ModelInfo) -> Any:
    import keras
    from keras import layers

    cell = {"lstm": layers.LSTM, "gru": layers.GRU}[info.hparams["cell"]]
    return keras.Sequential(
        [
            keras.Input(info.input_shape(spec)),
            cell(info.hparams["units"]),
            layers.Dense(info.num_classes, activation="softmax"),
        ],
        name=info.name,
    )


LSTM = ModelInfo(
    name="lstm",
    description="LSTM(128) over 40x60 synthetic sequences, 60 classes (seed's lstm_synthetic)",
    default_batch_size=128,
    input_kind="sequence",
    num_classes=60,
    vector_size=60,
    default_seq_len=40,
    hparams={"cell": "lstm", "units": 128},
    optimizer="rmsprop",
    builder=build,
)
MODELS = (
    LSTM,
    tiny_variant(
        LSTM,
        "lstm_tiny",
        "lstm with 16 units over 8x8 sequences, 8 classes (tests)",
        num_classes=8,
        vector_size=8,
        default_seq_len=8,
        hparams={"cell": "lstm", "units": 16},
    ),
)
