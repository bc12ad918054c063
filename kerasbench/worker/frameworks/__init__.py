"""Each backend's specifics inside a worker, in that backend's own module.

A framework module provides, for its backend:

- ``describe() -> (device kind, device name, library version)``
- ``apply_settings(spec) -> dict``: TF32 and the like, set explicitly; what was set
- ``peak_device_memory_bytes() -> int | None``: the allocator's peak, None on CPU
- ``matmul_runner(n, dtype, gpu)``: ``run(r)`` doing r n x n matmuls, synchronised
  (None where no peak is measured)
- ``data_parallel_engine()``: the engine class for devices > 1 or hosts > 1, or None

``get(backend)`` is the one lookup; nothing else in the worker branches on a
backend's name.
"""

from __future__ import annotations

import importlib
from types import ModuleType

MODULES = {
    "jax": "jax",
    "tensorflow": "tensorflow",
    "torch": "torch",
    "openvino": "openvino",
    # The native baselines (issue 16) run on the same framework without Keras: the same
    # device description, allocator peak and matmul peak as the Keras backend over it.
    "torch-native": "torch",
    "jax-native": "jax",
}


def framework_of(backend: str) -> str:
    """The framework module's name for ``backend`` (jax for jax-native); the name if unknown."""
    return MODULES.get(backend, backend)


def get(backend: str) -> ModuleType:
    """The framework module of ``backend``; ValueError naming the valid ones."""
    if backend not in MODULES:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(MODULES)}")
    return importlib.import_module(f"{__name__}.{MODULES[backend]}")
