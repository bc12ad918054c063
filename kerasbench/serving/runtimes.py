"""Serving runtimes: a ``predict(batch)`` per runtime, checked against Keras before timing.

``prepare(model, runtime, batches, workdir)`` is the one entry point. The
``keras`` runtime is the backend's own call path in its fastest honest form, a
compiled inference step (not ``model.predict`` per request). The others serve
the artifact of ``model.export`` (see ``export.py``). Every runtime's outputs
on the batches it will serve are compared with the Keras model's eager call on
the same input; a mismatch raises ``OutputMismatch``, so a broken export is an
error, never a fast point. Every ``predict`` takes and returns NumPy arrays, so
it returns only once the result exists (no asynchronous dispatch left running).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kerasbench.serving.export import FORMATS, Skip, export, first_line, load

RUNTIMES = ("keras", *FORMATS)

# Largest allowed max|runtime - keras| / max|keras| per compute precision. float32
# kernels differ in summation order and fusion (about 1e-6 relative); converters
# can fold constants in another order, so 1e-3 leaves room without hiding a wrong graph.
TOLERANCE = {"float32": 1e-3, "mixed_float16": 3e-2, "mixed_bfloat16": 3e-2, "float16": 3e-2,
             "bfloat16": 3e-2}  # fmt: skip


class OutputMismatch(RuntimeError):
    """A runtime's outputs differ from Keras' own beyond the precision's tolerance."""


@dataclass
class Runtime:
    """A ready-to-time runtime: its predict, how it runs, and what exporting cost."""

    name: str
    predict: Callable[[np.ndarray], list]
    description: str
    export_s: float | None = None
    artifact_bytes: int | None = None
    max_rel_error: float = 0.0

    def record(self) -> dict[str, Any]:
        """Fields for a result record (``predict`` left out)."""
        return {
            "runtime": self.name,
            "runtime_variant": self.description,
            "export_s": self.export_s,
            "artifact_bytes": self.artifact_bytes,
            "max_rel_error": self.max_rel_error,
        }


def _numpy_list(out: Any) -> list[np.ndarray]:
    import keras

    return [np.asarray(keras.ops.convert_to_numpy(o)) for o in keras.tree.flatten(out)]


def keras_predict(model: Any) -> tuple[Callable[[np.ndarray], list], str]:
    """The backend's compiled inference call for ``model``: (predict, which variant)."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        @jax.jit
        def step(trainable, non_trainable, x):
            y, _ = model.stateless_call(trainable, non_trainable, x, training=False)
            return y

        tv = [v.value for v in model.trainable_variables]
        ntv = [v.value for v in model.non_trainable_variables]

        def predict(x: np.ndarray) -> list:
            return [np.asarray(o) for o in jax.tree_util.tree_leaves(step(tv, ntv, x))]

        return predict, f"jax.jit(model.stateless_call), jax {jax.__version__}"
    if backend == "tensorflow":
        import tensorflow as tf

        step = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        return (
            lambda x: [o.numpy() for o in tf.nest.flatten(step(x))],
            f"tf.function(model.__call__) without XLA, TensorFlow {tf.__version__}",
        )
    if backend == "torch":
        import torch

        def predict(x: np.ndarray) -> list:
            with torch.inference_mode():
                out = model(torch.from_numpy(x), training=False)
            return [t.numpy() for t in keras.tree.flatten(out)]

        return predict, f"model(x) eager under torch.inference_mode, torch {torch.__version__}"
    # Backends without a separate compiled call (openvino) compile inside predict_on_batch.
    return (
        lambda x: _numpy_list(model.predict_on_batch(x)),
        f"model.predict_on_batch ({backend} backend)",
    )


def reference(model: Any, batches: dict[int, np.ndarray]) -> dict[int, list[np.ndarray]]:
    """Keras' own eager outputs on each batch: what every runtime is checked against."""
    return {k: _numpy_list(model(x, training=False)) for k, x in batches.items()}


def compare(name: str, got: list, want: list[np.ndarray], tolerance: float) -> float:
    """max |got - want| / max |want| over all outputs; OutputMismatch beyond ``tolerance``."""
    if len(got) != len(want):
        raise OutputMismatch(f"{name}: {len(got)} outputs, Keras gives {len(want)}")
    worst = 0.0
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        g = np.asarray(g)
        if g.shape != w.shape:
            raise OutputMismatch(f"{name}: output {i} has shape {g.shape}, Keras gives {w.shape}")
        scale = max(float(np.max(np.abs(w))), 1e-6)
        err = float(np.max(np.abs(g.astype(np.float64) - w))) / scale
        if not err <= tolerance:  # also catches NaN
            raise OutputMismatch(
                f"{name}: output {i} differs from Keras by {err:.2e} relative (> {tolerance:g})"
            )
        worst = max(worst, err)
    return worst


def prepare(
    model: Any,
    runtime: str,
    batches: dict[int, np.ndarray],
    workdir: str | os.PathLike,
    precision: str = "float32",
) -> Runtime:
    """Build ``runtime`` for ``model`` and check it on ``batches`` ({size: input}) against Keras.

    Raises ``Skip`` (one-line reason) when the runtime's package is missing or
    the export fails, ``OutputMismatch`` when its outputs are wrong. Everything
    here (export, loading, compilation by the first calls) is outside timing.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown serving runtime {runtime!r}; known: {', '.join(RUNTIMES)}")
    if precision not in TOLERANCE:
        raise ValueError(f"no output tolerance for precision {precision!r}")
    if len(model.inputs or []) != 1:
        raise Skip(f"{runtime}: serving supports single-input models; this one has "
                   f"{len(model.inputs or [])} inputs")  # fmt: skip
    want = reference(model, batches)  # also builds the model, which the exporters need
    if runtime == "keras":
        predict, description = keras_predict(model)
        rt = Runtime(runtime, predict, description)
    else:
        path, seconds, size = export(model, runtime, workdir, tuple(batches))
        predict, description = load(runtime, path, precision)
        rt = Runtime(runtime, predict, description, seconds, size)
    for size, x in batches.items():
        try:
            got = rt.predict(x)
        except Exception as exc:  # e.g. an artifact traced for another batch size
            raise Skip(f"{runtime} failed on batch {size}: {first_line(exc)}") from exc
        err = compare(f"{runtime} batch {size}", got, want[size], TOLERANCE[precision])
        rt.max_rel_error = max(rt.max_rel_error, err)
    return rt
