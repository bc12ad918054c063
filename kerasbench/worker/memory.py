"""Peak memory of a worker: host RSS, and device memory from each backend's allocator.

Read once, after the timed windows, so that reading never disturbs them. On
GPUs the figure is the allocator's peak of live buffers (what the model used),
not what the framework reserved from the driver.
"""

from __future__ import annotations

import resource
import sys


def peak_host_memory_bytes() -> int:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def peak_device_memory_bytes(backend: str) -> int | None:
    """Allocator peak on the first accelerator, or None on CPU."""
    if backend == "jax":
        import jax

        for device in jax.local_devices():
            if device.platform != "cpu":
                stats = device.memory_stats() or {}
                return stats.get("peak_bytes_in_use")
        return None
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return int(torch.cuda.max_memory_allocated())
        return None
    if backend == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
        return None
    return None
