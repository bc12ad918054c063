"""Small facts about results that every format shows the same way (no plotting imports)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from kerasbench.result import Result

# Characters that a terminal, a Markdown viewer or an editor acts on rather than shows:
# C0/C1 controls (escape sequences), line and paragraph separators, bidirectional
# overrides and isolates (text that reads differently from how it is stored).
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _visible(char: str, keep: str) -> str:
    if char in keep:
        return char
    if char in _BIDI or unicodedata.category(char) in ("Cc", "Zl", "Zp"):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def safe_text(value: object, keep: str = "") -> str:
    """``value`` as text with control characters shown as escapes ("\\x1b"), never acted on.

    Every string a report prints comes from a results store or a JSON file that
    someone else may have written: an escape sequence in a label must not move
    the cursor, recolour the terminal or hide text. ``keep`` names characters
    to leave alone (CSV keeps newlines and tabs inside its quoted cells).
    """
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case, without a per-character walk
        return text
    return "".join(_visible(c, keep) for c in text)


def speed_number(speed: float) -> str:
    """A throughput with one decimal from 10 up, more below (0.14 images/s must not read 0.1)."""
    decimals = 1 if speed >= 10 else 2 if speed >= 1 else 3
    return f"{speed:,.{decimals}f}"


def unit(result: Result) -> str:
    """What the throughput of ``result`` counts per second: images/s, tokens/s or samples/s."""
    from kerasbench.models import MODELS

    if result.throughput_unit != "samples/s":  # e.g. tokens/s when generating text
        return result.throughput_unit
    info = MODELS.get(result.model)
    return "images/s" if info is not None and info.input_kind == "image" else "samples/s"


def common_unit(results: Sequence[Result]) -> str | None:
    """The unit every one of ``results`` shares, else None."""
    units = {unit(r) for r in results}
    return units.pop() if len(units) == 1 else None


def slug(text: str) -> str:
    """A safe file-name part: letters, digits, '.', '_' and '-' only."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned or "x"


def total_devices(result: Result) -> int:
    """Devices across every host of a point (``devices`` counts one host's)."""
    return result.devices * max(1, result.num_hosts)
