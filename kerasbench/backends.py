"""Which Keras backends kerasbench knows, what each can do, and whether it is installed here.

Each entry declares its capabilities (inference-only, data-parallel engine,
native input pipeline, precisions, legacy limits); ``kerasbench.feasibility``
reads them, so no other module needs a ``backend == "..."`` branch.
Detection reads package metadata only: the orchestrator must never import a
framework (importing TensorFlow alone costs seconds and hundreds of MB, and the
backend of a Keras process is fixed at import).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from importlib import metadata

ALL_PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16", "bfloat16")


# What a native baseline measures: Keras' own training and inference modes.
NATIVE_MODES = ("train_on_batch", "fit", "predict")


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
    # Capabilities, read by kerasbench.feasibility and the launcher.
    # How devices > 1 or num_hosts > 1 run: "in_process" (one worker drives every
    # device), "torchrun" (one process per device), "multi_gpu_model" (keras-mxnet,
    # GPUs only), "" (no data-parallel engine).
    data_parallel: str = ""
    multi_host: bool = False  # can a data-parallel point span hosts
    # Multi-host CPU points: one simulated CPU device per host (MultiWorkerMirroredStrategy).
    multi_host_cpu_one_device: bool = False
    native_input: str = ""  # its own input pipeline for --input native ("" = none)
    native_input_module: str = ""  # a module that pipeline needs beyond the backend
    precisions: tuple[str, ...] = ALL_PRECISIONS
    jit: bool = True  # has a jit_compile switch
    # Legacy limits: the datasets and inputs its worker feeds.
    datasets: tuple[str, ...] = ("synthetic", "cifar10", "imagefolder", "text")
    inputs: tuple[str, ...] = ("arrays", "generator", "native")
    # Variables its worker needs (on top of KERAS_BACKEND = name) and caller variables it keeps.
    worker_env: tuple[tuple[str, str], ...] = ()
    env_prefixes: tuple[str, ...] = ()
    # Native baselines (issue 16): the framework it runs without Keras ("" = a Keras
    # backend), the modes it measures, the --compile values it takes, and whether it
    # joins a run only when named (--backends), as the legacy rows do.
    native: str = ""
    modes: tuple[str, ...] = ()  # () = every mode
    compiles: tuple[str, ...] = ("auto",)
    when_named: bool = False

    @property
    def install_hint(self) -> str:
        return self.hint or f"pip install 'kerasbench[{self.extra}]'"

    @property
    def keras3_training(self) -> bool:
        """A Keras 3 backend with a training loop (parity compares these)."""
        return self.training and not self.legacy and not self.native

    def native_input_missing(self) -> str | None:
        """The module its native input pipeline needs and this host lacks, or None."""
        needed = self.native_input_module
        if needed and importlib.util.find_spec(needed) is None:
            return needed
        return None


BACKENDS: dict[str, BackendInfo] = {
    b.name: b
    for b in (
        BackendInfo(
            "jax",
            ("keras", "jax", "jaxlib"),
            "jax",
            "Keras 3 on JAX (XLA)",
            data_parallel="in_process",
            multi_host=True,
            native_input="grain",
            native_input_module="grain",
        ),
        BackendInfo(
            "tensorflow",
            ("keras", "tensorflow"),
            "tensorflow",
            "Keras 3 on TensorFlow",
            data_parallel="in_process",
            multi_host=True,
            multi_host_cpu_one_device=True,
            native_input="tf.data",
        ),
        BackendInfo(
            "torch",
            ("keras", "torch"),
            "torch",
            "Keras 3 on PyTorch",
            data_parallel="torchrun",
            multi_host=True,
            native_input="DataLoader",
        ),
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
            datasets=("synthetic",),
            inputs=("arrays",),
            # tf-keras is TensorFlow's Keras 2; TF_USE_LEGACY_KERAS makes tf.keras name it too.
            worker_env=(("KERAS_BACKEND", "tensorflow"), ("TF_USE_LEGACY_KERAS", "1")),
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
            data_parallel="multi_gpu_model",
            precisions=("float32",),
            jit=False,  # MXNet's symbolic executor
            datasets=("synthetic",),
            inputs=("arrays",),
            env_prefixes=("MXNET_",),
        ),
        BackendInfo(
            "torch-native",
            ("torch",),
            "torch",  # the torch extra brings torchvision
            "plain PyTorch, no Keras (torchvision models and nn.Modules): the baseline of torch",
            keras_package="",
            native="torch",
            modes=NATIVE_MODES,
            # auto = eager, as the Keras torch backend's jit_compile auto runs eagerly.
            compiles=("auto", "eager", "default", "max-autotune"),
            when_named=True,
            jit=False,
            datasets=("synthetic",),
            inputs=("arrays",),
            worker_env=(("KERAS_BACKEND", "torch"),),
        ),
        BackendInfo(
            "jax-native",
            ("jax", "jaxlib", "flax", "optax"),
            "jax",  # the jax extra brings flax and optax
            "Flax and optax, no Keras, always jitted: the baseline of jax",
            keras_package="",
            native="jax",
            modes=NATIVE_MODES,
            compiles=("auto",),  # always jax.jit
            # mixed_float16 needs loss scaling, which optax lacks (Keras scales the loss).
            precisions=("float32", "mixed_bfloat16"),
            when_named=True,
            jit=False,
            datasets=("synthetic",),
            inputs=("arrays",),
            worker_env=(("KERAS_BACKEND", "jax"),),
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

    Legacy backends (Keras 2) and the native baselines are left out unless
    ``legacy``: they run when named.
    """
    return [
        name
        for name, info in BACKENDS.items()
        if is_installed(name)
        and (info.training or not training_only)
        and (legacy or not (info.legacy or info.when_named))
    ]


def backend_version(backend: str) -> str | None:
    """Version of the framework under Keras (e.g. jax 0.10.2 for the jax backend)."""
    if BACKENDS[backend].own_env:
        from kerasbench.legacy import envs

        record = envs.recorded(backend)
        return record.backend_version if record else None
    info = BACKENDS[backend]
    return package_version(info.native or info.packages[1])


def keras_version(backend: str) -> str | None:
    """Version of the Keras a backend runs (keras 3, tf-keras or keras-mxnet)."""
    if BACKENDS[backend].own_env:
        from kerasbench.legacy import envs

        record = envs.recorded(backend)
        return record.keras_version if record else None
    package = BACKENDS[backend].keras_package
    return package_version(package) if package else None  # a native baseline has no Keras
