"""Which Keras backends kerasbench knows, and whether each is installed here.

Detection reads package metadata only: the orchestrator must never import a
framework (importing TensorFlow alone costs seconds and hundreds of MB, and the
backend of a Keras process is fixed at import).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata


@dataclass(frozen=True)
class BackendInfo:
    """A backend: how Keras names it, which packages it needs, how to install it."""

    name: str
    packages: tuple[str, ...]  # distributions that must all be installed
    extra: str  # the kerasbench extra that installs it
    description: str
    training: bool = True  # openvino is inference-only
    # Legacy rows (Keras 2) run kerasbench/legacy/worker.py and only when named
    # (--backends), never by default.
    legacy: bool = False
    own_env: bool = False  # runs in an environment made by `kerasbench setup NAME`
    keras_package: str = "keras"  # the distribution that provides its Keras
    hint: str = ""  # how to install it, when not a kerasbench extra

    @property
    def install_hint(self) -> str:
        return self.hint or f"pip install 'kerasbench[{self.extra}]'"


BACKENDS: dict[str, BackendInfo] = {
    b.name: b
    for b in (
        BackendInfo("jax", ("keras", "jax", "jaxlib"), "jax", "Keras 3 on JAX (XLA)"),
        BackendInfo(
            "tensorflow",
            ("keras", "tensorflow"),
            "tensorflow",
            "Keras 3 on TensorFlow",
        ),
        BackendInfo("torch", ("keras", "torch"), "torch", "Keras 3 on PyTorch"),
        BackendInfo(
            "openvino",
            ("keras", "openvino"),
            "openvino",
            "Keras 3 on OpenVINO (inference only)",
            training=False,
        ),
        BackendInfo(
            "tf-keras",
            ("tf-keras", "tensorflow"),
            "tf-keras",
            "Keras 2 (tf-keras) on TensorFlow, TF_USE_LEGACY_KERAS=1",
            legacy=True,
            keras_package="tf-keras",
        ),
        BackendInfo(
            "mxnet",
            (),
            "",
            "Keras 2.2.4 on Apache MXNet (keras-mxnet), in its own Python 3.7-3.9 environment",
            legacy=True,
            own_env=True,
            keras_package="keras-mxnet",
            hint="kerasbench setup mxnet",
        ),
    )
}

# TensorFlow ships under several distribution names; any of them provides `tensorflow`.
_ALIASES = {"tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly")}


def package_version(dist: str) -> str | None:
    """The installed version of a distribution (or of one of its aliases), else None."""
    for name in _ALIASES.get(dist, (dist,)):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def missing_packages(backend: str) -> list[str]:
    """Distributions the backend needs that are not installed (empty when usable)."""
    if BACKENDS[backend].own_env:
        from kerasbench.legacy import envs

        return envs.missing(backend)
    return [p for p in BACKENDS[backend].packages if package_version(p) is None]


def is_installed(backend: str) -> bool:
    return not missing_packages(backend)


def installed_backends(training_only: bool = False, legacy: bool = False) -> list[str]:
    """Installed backends in registry order; openvino is left out for training suites.

    Legacy backends (Keras 2) are left out unless ``legacy``: they run when named.
    """
    return [
        name
        for name, info in BACKENDS.items()
        if is_installed(name)
        and (info.training or not training_only)
        and (legacy or not info.legacy)
    ]


def backend_version(backend: str) -> str | None:
    """Version of the framework under Keras (e.g. jax 0.10.2 for the jax backend)."""
    if BACKENDS[backend].own_env:
        from kerasbench.legacy import envs

        record = envs.recorded(backend)
        return record.backend_version if record else None
    return package_version(BACKENDS[backend].packages[1])


def keras_version(backend: str) -> str | None:
    """Version of the Keras a backend runs (keras 3, tf-keras or keras-mxnet)."""
    if BACKENDS[backend].own_env:
        from kerasbench.legacy import envs

        record = envs.recorded(backend)
        return record.keras_version if record else None
    return package_version(BACKENDS[backend].keras_package)
