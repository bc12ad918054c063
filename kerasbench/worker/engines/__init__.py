"""Engines: how one point's model is placed, fed and stepped; one per kind of run.

Every point goes through the same ``kerasbench.worker.main.run_point``:
``engine.start()`` (devices and peers, before Keras is imported), the shared
``prepare`` (seed, data format, explicit settings, device check),
``engine.load`` (the inputs), ``engine.build`` (model and compile),
``engine.measure`` (the timed windows), ``engine.finish``, then the shared
``finish`` that writes the record. The single-device engine is one engine
among the data-parallel ones (``data_parallel``, chosen per backend through
``kerasbench.worker.frameworks``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kerasbench.models import ModelInfo
from kerasbench.spec import Spec
from kerasbench.spec_serving import SERVING_MODES
from kerasbench.worker import frameworks
from kerasbench.worker.inputs import FedInput
from kerasbench.worker.measure import Timing

# Spec.optimizer -> (keras.optimizers class, extra arguments); the learning rate is Keras'
# default for the class unless --learning-rate says otherwise. ``parity`` keeps plain SGD.
OPTIMIZER_CLASSES = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {}),
}


@dataclass
class PointData:
    """A point's inputs: in-memory arrays (this process's rows) or an input pipeline."""

    info: ModelInfo  # the model description the data fits
    n_distinct: int  # distinct global batches made; longer runs cycle through them
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    fed: FedInput | None = None


@dataclass
class Measured:
    """What an engine's timed run gives back."""

    timing: Timing  # this process's timing
    window_times_s: list[float]  # the point's windows (data-parallel: the slowest process's)
    losses: list[float] = field(default_factory=list)  # global loss of every step, where known
    items_per_step: int | None = None  # None: the global batch
    throughput_unit: str = "samples/s"
    settings: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)  # further RawMeasurement fields


class Engine:
    """The interface every engine follows; see the package docstring for the order of calls."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def start(self) -> None:
        """Set up devices and join the other processes; runs before Keras is imported."""

    def load(self, info: ModelInfo) -> PointData:
        raise NotImplementedError

    def build(self, info: ModelInfo) -> Any:
        """The compiled model, or None when the mode needs none (``input_only``)."""
        raise NotImplementedError

    def measure(self, model: Any, data: PointData, started: float) -> Measured:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """What this engine records in the result's settings."""
        return {}

    def finish(self) -> None:
        """Leave the process group, where there is one."""


def is_data_parallel(spec: Spec) -> bool:
    return spec.devices > 1 or spec.num_hosts > 1


def is_native(spec: Spec) -> bool:
    """A native baseline (torch-native, jax-native): measured without Keras."""
    from kerasbench.backends import BACKENDS

    return bool(BACKENDS[spec.backend].native)


def engine_for(spec: Spec) -> Engine:
    """The engine that runs ``spec``: native, serving, single-device or data-parallel."""
    if is_native(spec):
        from kerasbench.worker.engines.native_runner import NativeEngine

        return NativeEngine(spec)
    if spec.mode in SERVING_MODES:
        from kerasbench.worker.engines.serving import ServingEngine

        return ServingEngine(spec)
    if not is_data_parallel(spec):
        from kerasbench.worker.engines.single import SingleDeviceEngine

        return SingleDeviceEngine(spec)
    engine = frameworks.get(spec.backend).data_parallel_engine()
    if engine is None:
        raise ValueError(f"backend {spec.backend} has no data-parallel engine")
    return engine(spec)


def jit_arg(value: str) -> bool | str:
    """Keras' ``jit_compile`` argument for the Spec's auto/on/off."""
    return {"auto": "auto", "on": True, "off": False}[value]


def resolved_jit(model: Any) -> Any:
    """What ``jit_compile`` the compiled model ended up with (JSON-ready)."""
    value = getattr(model, "jit_compile", None)
    return value if isinstance(value, (bool, str)) or value is None else str(value)


def optimizer_choice(spec: Spec, info: ModelInfo | None = None) -> tuple[str, float | None]:
    """The point's optimizer name and learning rate (None: Keras' default for it).

    The one rule for both sides of a comparison: Keras engines build it with
    ``make_optimizer``, the native baselines with their framework's own optimizer.
    """
    name = spec.optimizer or (info.optimizer if info is not None else "sgd")
    return name, spec.learning_rate or None


def make_optimizer(spec: Spec, info: ModelInfo | None = None) -> Any:
    """The point's Keras optimizer (``optimizer_choice``)."""
    import keras

    name, learning_rate = optimizer_choice(spec, info)
    class_name, extra = OPTIMIZER_CLASSES[name]
    kwargs = dict(extra)
    if learning_rate:
        kwargs["learning_rate"] = learning_rate
    return getattr(keras.optimizers, class_name)(**kwargs)


def describe_optimizer(optimizer: Any) -> str:
    """``"SGD(learning_rate=0.01, momentum=0.9)"``: what the record says was trained with."""
    config = optimizer.get_config()
    rate = config.get("learning_rate")
    parts = [f"learning_rate={rate:g}" if isinstance(rate, (int, float)) else "learning_rate=?"]
    if config.get("momentum"):
        parts.append(f"momentum={config['momentum']:g}")
    return f"{type(optimizer).__name__}({', '.join(parts)})"


def compile_model(model: Any, info: ModelInfo, spec: Spec) -> None:
    """The one compile of every engine, so that all do the same work."""
    model.compile(
        optimizer=make_optimizer(spec, info),
        loss=info.make_loss(),
        jit_compile=jit_arg(spec.jit_compile),
    )
