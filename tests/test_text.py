"""encode_text: windows and next-character labels, as in the classic example."""

from __future__ import annotations

import numpy as np
import pytest

from kerasbench.data.text import encode_text


def test_windows_and_labels_follow_the_text() -> None:
    text = "abcdefghij"
    x, y, vocab = encode_text(text, 4, step=3)
    assert vocab == 10
    assert x.dtype == np.int32 and y.dtype == np.int32
    decoded = ["".join(text[i] for i in row) for row in x]
    assert decoded == ["abcd", "defg"]
    assert [text[i] for i in y] == ["e", "h"]


def test_vocabulary_is_sorted_distinct_characters() -> None:
    x, y, vocab = encode_text("baab", 2, step=1)
    assert vocab == 2
    assert x.tolist() == [[1, 0], [0, 0]]
    assert y.tolist() == [0, 1]


def test_too_short_text_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        encode_text("abcd", 4)
