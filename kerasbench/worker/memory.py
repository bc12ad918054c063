"""Peak memory of a worker: host RSS, and device memory from each backend's allocator.

Read once, after the timed windows, so that reading never disturbs them. On
GPUs the figure is the allocator's peak of live buffers (what the model used),
not what the framework reserved from the driver.
"""

from __future__ import annotations

import resource
import sys

from kerasbench.worker import frameworks


def peak_host_memory_bytes() -> int:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def peak_device_memory_bytes(backend: str) -> int | None:
    """Allocator peak on the first accelerator, or None on CPU."""
    return frameworks.get(backend).peak_device_memory_bytes()
