"""Character-level text for the sequence models: a string cut into training windows.

The same cutting as the classic Keras ``lstm_text_generation`` example: windows of
``seq_len`` characters every ``step`` characters, each labelled with the character
that follows it. The vocabulary is the sorted set of characters in the text, so
token ids are stable for a given text.

``TextWindows`` keeps only the text's token ids and makes each window when it is
read: materialising every window up front costs ``seq_len * 4 / step`` bytes per
input character (55 for the usual 40-character windows), so a text file of a
few hundred MB would need tens of GB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Characters in a vocabulary at most: the model's output layer has one unit each.
MAX_VOCAB = 20_000


def text_ids(text: str) -> tuple[np.ndarray, int]:
    """Token ids of ``text`` (int32, one per character) and the vocabulary size."""
    vocab = sorted(set(text))
    if len(vocab) > MAX_VOCAB:
        raise ValueError(f"{len(vocab)} distinct characters; at most {MAX_VOCAB} are supported")
    index = {c: i for i, c in enumerate(vocab)}
    return np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text)), len(vocab)


@dataclass(frozen=True)
class TextWindows:
    """Windows of ``length`` ids every ``step`` ids, made on demand from ``ids``."""

    ids: np.ndarray
    length: int
    step: int = 3

    def __post_init__(self) -> None:
        if self.length < 1 or self.step < 1:
            raise ValueError(
                f"seq_len and step must be positive, got {self.length} and {self.step}"
            )
        if len(self.ids) < self.length + 1:
            raise ValueError(
                f"text has {len(self.ids)} characters; needs at least {self.length + 1}"
            )

    def __len__(self) -> int:
        return len(range(0, len(self.ids) - self.length, self.step))

    def windows(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Windows ``indices`` (n, length) and the id right after each (n,)."""
        starts = np.asarray(indices, dtype=np.int64) * self.step
        view = np.lib.stride_tricks.sliding_window_view(self.ids, self.length)
        return np.ascontiguousarray(view[starts]), self.ids[starts + self.length]


def encode_text(text: str, seq_len: int, step: int = 3) -> tuple[np.ndarray, np.ndarray, int]:
    """Every window of ``text`` at once: ids ``x`` (n, seq_len) int32, next ids ``y`` (n,).

    Returns ``(x, y, vocab_size)``. Raises ValueError when the text is shorter
    than one window plus its label. For small texts; sources use TextWindows.
    """
    if seq_len < 1 or step < 1:
        raise ValueError(f"seq_len and step must be positive, got {seq_len} and {step}")
    if len(text) < seq_len + 1:
        raise ValueError(f"text has {len(text)} characters; needs at least {seq_len + 1}")
    ids, vocab = text_ids(text)
    windows = TextWindows(ids, seq_len, step)
    x, y = windows.windows(np.arange(len(windows)))
    return x, y, vocab
