"""How a legacy point starts: which interpreter, which environment.

``kerasbench.orchestrate.point`` calls into here for the backends marked
``legacy`` in the registry; everything else about running a point (temporary
folder, private KERAS_HOME, timeout, process group, saving) is the launcher's,
unchanged. Whether a legacy point can run is ``kerasbench.feasibility``'s
question; it reads the models and modes the legacy worker knows from here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kerasbench import backends
from kerasbench.legacy import envs
from kerasbench.legacy.worker import MODELS as WORKER_MODELS
from kerasbench.legacy.worker import MODES as WORKER_MODES
from kerasbench.spec import Spec

__all__ = ["WORKER", "WORKER_MODELS", "WORKER_MODES", "interpreter", "worker_command"]

WORKER = Path(__file__).resolve().with_name("worker.py")


def interpreter(backend: str) -> str:
    """The Python that runs ``backend``'s worker: this one, or its own environment's."""
    if not backends.BACKENDS[backend].own_env:
        return sys.executable  # e.g. tf-keras lives in this environment
    record = envs.recorded(backend)
    if record is None:
        raise envs.EnvError(f"backend {backend} has no environment: kerasbench setup {backend}")
    return record.python


def worker_command(spec: Spec, spec_path: Path, result_path: Path) -> list[str]:
    """The legacy worker under its interpreter; ``-I`` keeps this package and user sites out."""
    return [interpreter(spec.backend), "-I", str(WORKER), str(spec_path), str(result_path)]


def worker_env(backend: str, base: dict[str, str]) -> dict[str, str]:
    """What a legacy worker needs on top of the launcher's environment (its registry entry)."""
    info = backends.BACKENDS[backend]
    extra = {k: v for k, v in base.items() if info.env_prefixes and k.startswith(info.env_prefixes)}
    return {**extra, "KERAS_BACKEND": backend, **dict(info.worker_env)}
