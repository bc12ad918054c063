"""PyTorch's specifics inside a worker (see ``kerasbench.worker.frameworks``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kerasbench.spec import Spec
from kerasbench.worker.device import cpu_name


def describe() -> tuple[str, str, str]:
    import torch

    if torch.cuda.is_available():
        return "gpu", torch.cuda.get_device_name(0), torch.__version__
    return "cpu", cpu_name(), torch.__version__


def apply_settings(spec: Spec) -> dict[str, Any]:
    """PyTorch disables TF32 for matmuls by default and enables it for cuDNN: set both."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = spec.tf32
    torch.backends.cudnn.allow_tf32 = spec.tf32
    torch.set_float32_matmul_precision("high" if spec.tf32 else "highest")
    return {
        "torch_allow_tf32": {"matmul": spec.tf32, "cudnn": spec.tf32},
        "torch_float32_matmul_precision": torch.get_float32_matmul_precision(),
    }


def peak_device_memory_bytes() -> int | None:
    import torch

    return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else None


def matmul_runner(n: int, dtype: str, gpu: bool) -> Callable[[int], None]:
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    device, torch_dtype = "cuda" if gpu else "cpu", getattr(torch, dtype)
    a = torch.from_numpy(rng.random((n, n), dtype=np.float32)).to(device, torch_dtype)
    b = torch.from_numpy(rng.random((n, n), dtype=np.float32)).to(device, torch_dtype)

    def run(r: int) -> None:
        with torch.no_grad():
            for _ in range(r):
                out = torch.matmul(a, b)
        if gpu:
            torch.cuda.synchronize()
        else:
            out.sum().item()

    return run


def data_parallel_engine() -> type:
    from kerasbench.worker.engines.torch_ddp import TorchEngine

    return TorchEngine
