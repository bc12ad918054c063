"""Character-level text generation LSTM (the classic Keras ``lstm_text_generation`` example).

40 characters in, the next character out: one-hot characters, LSTM(128), a
softmax over the vocabulary; batch 128, as in the seed suite's benchmark. The
model takes int32 character ids and one-hot encodes them itself (the same
arithmetic as the example's one-hot input arrays, at a 60th of the host memory).
Synthetic text by default uses 60 characters; a user's text file brings its own
vocabulary (``dataclasses.replace(info, vocab_size=v, num_classes=v)``, see
``kerasbench.data.text.encode_text``).
"""

from __future__ import annotations

from typing import Any

from kerasbench.models import ModelInfo, tiny_variant


def build(spec: Any, info: ModelInfo) -> Any:
    import keras
    from keras import layers

    vocab = info.vocab_size

    class OneHot(layers.Layer):
        """Character ids to one-hot vectors, inside the model."""

        def call(self, ids: Any) -> Any:
            return keras.ops.one_hot(ids, vocab, dtype=self.compute_dtype)

    return keras.Sequential(
        [
            keras.Input(info.input_shape(spec), dtype="int32"),
            OneHot(name="one_hot"),
            layers.LSTM(info.hparams["units"]),
            layers.Dense(info.num_classes, activation="softmax"),
        ],
        name=info.name,
    )


LSTM_TEXT = ModelInfo(
    name="lstm_text",
    description="char-level text-generation LSTM(128): 40 chars in, next char out",
    default_batch_size=128,
    input_kind="tokens",
    num_classes=60,
    vocab_size=60,
    default_seq_len=40,
    hparams={"units": 128},
    optimizer="rmsprop",  # the Keras example: RMSprop(learning_rate=0.01)
    builder=build,
)
MODELS = (
    LSTM_TEXT,
    tiny_variant(
        LSTM_TEXT,
        "lstm_text_tiny",
        "lstm_text with 16 units, 8 chars in, vocabulary 16 (tests)",
        num_classes=16,
        vocab_size=16,
        default_seq_len=8,
        hparams={"units": 16},
    ),
)
