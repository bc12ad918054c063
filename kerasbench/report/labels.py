"""Small facts about results that every format shows the same way (no plotting imports)."""

from __future__ import annotations

import re

from kerasbench.result import Result


def unit(model: str) -> str:
    """What a sample of ``model`` is, for axis labels: images/s or samples/s."""
    from kerasbench.models import MODELS

    info = MODELS.get(model)
    return "images/s" if info is not None and info.input_kind == "image" else "samples/s"


def slug(text: str) -> str:
    """A safe file-name part: letters, digits, '.', '_' and '-' only."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned or "x"


def total_devices(result: Result) -> int:
    """Devices across every host of a point (``devices`` counts one host's)."""
    return result.devices * max(1, result.num_hosts)
