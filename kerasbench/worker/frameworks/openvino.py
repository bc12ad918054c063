"""OpenVINO's specifics inside a worker (see ``kerasbench.worker.frameworks``).

Inference only, on the CPU here; no data-parallel engine and no measured peak.
"""

from __future__ import annotations

from typing import Any

from kerasbench.spec import Spec
from kerasbench.worker.device import cpu_name


def describe() -> tuple[str, str, str]:
    import openvino

    return "cpu", cpu_name(), openvino.__version__


def apply_settings(spec: Spec) -> dict[str, Any]:
    return {"openvino_inference_precision": "backend default (not controlled)"}


def peak_device_memory_bytes() -> None:
    return None


# No matmul peak benchmark: MFU is not computed for openvino.
matmul_runner = None


def data_parallel_engine() -> None:
    """No data-parallel engine: openvino points run on one device."""
    return None
