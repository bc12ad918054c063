"""What device a backend computes on, and the backend's own version."""

from __future__ import annotations

import platform

from kerasbench.worker import frameworks


def cpu_name() -> str:
    """The CPU's model name (Linux /proc/cpuinfo, else what platform knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe(backend: str) -> tuple[str, str, str]:
    """(device kind "cpu"/"gpu", device name, backend library version)."""
    return frameworks.get(backend).describe()
