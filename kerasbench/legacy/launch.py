"""How a legacy point starts (which interpreter, which environment) and when it is skipped.

``kerasbench.launch`` calls into here for the backends marked ``legacy`` in the
registry; everything else about running a point (temporary folder, private
KERAS_HOME, timeout, process group, saving) is the launcher's, unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kerasbench import backends
from kerasbench.legacy import envs
from kerasbench.legacy.worker import MODELS as WORKER_MODELS
from kerasbench.legacy.worker import MODES as WORKER_MODES
from kerasbench.spec import Spec

WORKER = Path(__file__).resolve().with_name("worker.py")
# Variables of the caller a keras-mxnet worker keeps, beside the launcher's whitelist.
MXNET_ENV_PREFIXES = ("MXNET_",)


def interpreter(backend: str) -> str:
    """The Python that runs ``backend``'s worker."""
    if backend == "tf-keras":
        return sys.executable  # tf-keras lives in this environment
    record = envs.recorded(backend)
    if record is None:
        raise envs.EnvError(f"backend {backend} has no environment: kerasbench setup {backend}")
    return record.python


def worker_command(spec: Spec, spec_path: Path, result_path: Path) -> list[str]:
    """The legacy worker under its interpreter; ``-I`` keeps this package and user sites out."""
    return [interpreter(spec.backend), "-I", str(WORKER), str(spec_path), str(result_path)]


def worker_env(backend: str, base: dict[str, str]) -> dict[str, str]:
    """What a legacy worker needs on top of the launcher's environment."""
    if backend == "tf-keras":
        # tf-keras is TensorFlow's Keras 2; TF_USE_LEGACY_KERAS makes tf.keras name it too.
        return {"KERAS_BACKEND": "tensorflow", "TF_USE_LEGACY_KERAS": "1"}
    extra = {k: v for k, v in base.items() if k.startswith(MXNET_ENV_PREFIXES)}
    return {**extra, "KERAS_BACKEND": "mxnet"}


def skip_reason(spec: Spec, gpus: int) -> str | None:
    """Why a legacy ``spec`` cannot run here, or None."""
    info = backends.BACKENDS[spec.backend]
    missing = backends.missing_packages(spec.backend)
    if missing:
        return (
            f"backend {spec.backend} is not installed (missing {', '.join(missing)}); "
            f"install it with: {info.install_hint}"
        )
    if spec.model not in WORKER_MODELS:
        return (
            f"model {spec.model} has no Keras 2 version in the legacy worker; "
            f"it has: {', '.join(sorted(WORKER_MODELS))}"
        )
    if spec.mode not in WORKER_MODES:
        return f"the legacy worker runs modes {', '.join(WORKER_MODES)}, not {spec.mode}"
    if spec.dataset != "synthetic":
        return f"the legacy worker measures synthetic data only, not {spec.dataset}"
    if getattr(spec, "input", "arrays") != "arrays":
        return f"the legacy worker feeds in-memory arrays only, not input {spec.input}"
    if spec.backend == "mxnet":
        if spec.precision != "float32":
            return "keras-mxnet runs float32 only"
        if spec.jit_compile == "on":
            return "keras-mxnet has no jit_compile (it runs MXNet's symbolic executor)"
        if spec.devices > 1 and gpus < spec.devices:
            return f"keras-mxnet's multi_gpu_model needs {spec.devices} GPUs; this host has {gpus}"
    elif spec.devices > 1:
        return "tf-keras points run on one device here"
    if spec.device_kind == "gpu" and gpus < spec.devices:
        return f"needs {spec.devices} GPU(s); this host has {gpus}"
    return None
