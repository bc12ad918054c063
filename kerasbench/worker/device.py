"""What device a backend computes on, and the backend's own version."""

from __future__ import annotations

import platform


def _cpu_name() -> str:
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
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        kind = "cpu" if device.platform == "cpu" else "gpu"
        name = _cpu_name() if kind == "cpu" else device.device_kind
        return kind, name, jax.__version__
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return "gpu", torch.cuda.get_device_name(0), torch.__version__
        return "cpu", _cpu_name(), torch.__version__
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return "gpu", details.get("device_name", gpus[0].name), tf.__version__
        return "cpu", _cpu_name(), tf.__version__
    if backend == "openvino":
        import openvino

        return "cpu", _cpu_name(), openvino.__version__
    raise ValueError(f"unknown backend {backend!r}")
