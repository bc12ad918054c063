"""Character-level text for the sequence models: a string cut into training windows.

The same cutting as the classic Keras ``lstm_text_generation`` example: windows of
``seq_len`` characters every ``step`` characters, each labelled with the character
that follows it. The vocabulary is the sorted set of characters in the text, so
token ids are stable for a given text.
"""

from __future__ import annotations

import numpy as np


def encode_text(text: str, seq_len: int, step: int = 3) -> tuple[np.ndarray, np.ndarray, int]:
    """Windows of ``text``: token ids ``x`` (n, seq_len) int32, next-character ids ``y`` (n,).

    Returns ``(x, y, vocab_size)``. Raises ValueError when the text is shorter
    than one window plus its label.
    """
    if seq_len < 1 or step < 1:
        raise ValueError(f"seq_len and step must be positive, got {seq_len} and {step}")
    if len(text) < seq_len + 1:
        raise ValueError(f"text has {len(text)} characters; needs at least {seq_len + 1}")
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))
    # Window i starts at i * step; its label is the character right after it.
    starts = np.arange(0, len(text) - seq_len, step)
    windows = np.lib.stride_tricks.sliding_window_view(ids, seq_len)
    x = np.ascontiguousarray(windows[starts])
    y = ids[starts + seq_len]
    return x, y, len(vocab)
