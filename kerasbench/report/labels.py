"""Small facts about results that every format shows the same way (no plotting imports)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kerasbench.result import Result


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
