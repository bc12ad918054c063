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

    @property
    def install_hint(self) -> str:
        return f"pip install 'kerasbench[{self.extra}]'"


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
    return [p for p in BACKENDS[backend].packages if package_version(p) is None]


def is_installed(backend: str) -> bool:
    return not missing_packages(backend)


def installed_backends(training_only: bool = False) -> list[str]:
    """Installed backends in registry order; openvino is left out for training suites."""
    return [
        name
        for name, info in BACKENDS.items()
        if is_installed(name) and (info.training or not training_only)
    ]


def backend_version(backend: str) -> str | None:
    """Version of the framework under Keras (e.g. jax 0.10.2 for the jax backend)."""
    return package_version(BACKENDS[backend].packages[1])
