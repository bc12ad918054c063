"""Export a Keras model with ``model.export`` and load the artifact in its own runtime.

One entry per serving runtime: the ``model.export`` format and file name, the
package that serves it, and a loader that returns ``predict(batch) -> list of
NumPy arrays``. Export happens once, outside any timed part; its time and the
artifact's size are recorded. A format that cannot be exported for this model
and backend raises ``Skip`` with the exporter's own reason (first line).
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ArrayPredict = Callable[[np.ndarray], list]


class Skip(Exception):
    """This runtime cannot serve this model here; the message is the one-line reason."""


@dataclass(frozen=True)
class Format:
    """How one runtime's artifact is made and which packages serve it."""

    keras_format: str  # the ``format=`` of ``model.export``
    filename: str  # the exporters check the suffix
    packages: tuple[str, ...]  # any one of these serves it


FORMATS = {
    "saved_model": Format("tf_saved_model", "saved_model", ("tensorflow",)),
    "onnx": Format("onnx", "model.onnx", ("onnxruntime",)),
    "openvino": Format("openvino", "model.xml", ("openvino",)),
    "litert": Format("litert", "model.tflite", ("ai_edge_litert", "tensorflow")),
    "torch_export": Format("torch", "model.pt2", ("torch",)),
}


def first_line(exc: BaseException) -> str:
    """The exception as one line: its type and the first non-empty line of its message."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[0]
    # A line ending in ':' only introduces the reason (OpenVINO's "Check ... failed at x:").
    for more in lines[1:]:
        if not text.endswith(":") or len(text) > 300:
            break
        text = f"{text} {more}"
    return f"{type(exc).__name__}: {text[:400]}"


def check_packages(runtime: str) -> None:
    """Raise Skip when none of the packages that serve ``runtime`` is installed."""
    fmt = _format(runtime)
    if not any(importlib.util.find_spec(p) for p in fmt.packages):
        raise Skip(f"{runtime}: runtime package not installed ({' or '.join(fmt.packages)})")


def _format(runtime: str) -> Format:
    if runtime not in FORMATS:
        raise ValueError(f"unknown export runtime {runtime!r}; known: {', '.join(FORMATS)}")
    return FORMATS[runtime]


def artifact_bytes(path: Path) -> int:
    """Size on disk of a file, or of every file under a directory (a SavedModel)."""
    if path.is_file():
        size = path.stat().st_size
        # OpenVINO's IR is the .xml graph plus the .bin weights beside it.
        extra = path.with_suffix(".bin")
        return size + (extra.stat().st_size if path.suffix == ".xml" and extra.exists() else 0)
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _export_kwargs(runtime: str, batch_sizes: tuple[int, ...]) -> dict[str, Any]:
    """Extra ``model.export`` arguments: torch.export fixes the batch unless told it varies."""
    if runtime == "torch_export" and set(batch_sizes) != {1}:
        import torch

        return {"dynamic_shapes": {0: torch.export.Dim("batch", min=1, max=4096)}}
    return {}


def export(
    model: Any, runtime: str, workdir: str | os.PathLike, batch_sizes: tuple[int, ...] = (1,)
) -> tuple[Path, float, int]:
    """Export ``model`` for ``runtime`` under ``workdir``: (artifact path, seconds, bytes).

    ``batch_sizes`` are the batch sizes the artifact will be called with. The
    model must have been called once (the torch exporters trace a built model).
    """
    fmt = _format(runtime)
    check_packages(runtime)
    path = Path(workdir) / runtime / fmt.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        kwargs = _export_kwargs(runtime, batch_sizes)
        model.export(str(path), format=fmt.keras_format, verbose=False, **kwargs)
    except Exception as exc:  # any exporter failure is this format's verdict, not a crash
        raise Skip(f"{runtime} export failed: {first_line(exc)}") from exc
    seconds = time.perf_counter() - start
    return path, seconds, artifact_bytes(path)


def _load_saved_model(path: Path, precision: str) -> tuple[ArrayPredict, str]:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # kept: ``serve`` alone lets its variables be freed

    def predict(x: np.ndarray) -> list:
        out = loaded.serve(x)
        # Dicts in key order, as keras.tree.flatten orders the reference outputs.
        leaves = [out[k] for k in sorted(out)] if isinstance(out, dict) else tf.nest.flatten(out)
        return [o.numpy() for o in leaves]

    return predict, f"tf.saved_model.load(...).serve, TensorFlow {tf.__version__}"


def _load_onnx(path: Path, precision: str) -> tuple[ArrayPredict, str]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return (
        lambda x: session.run(None, {name: x}),
        f"onnxruntime {ort.__version__} InferenceSession, CPUExecutionProvider",
    )


def _load_openvino(path: Path, precision: str) -> tuple[ArrayPredict, str]:
    import openvino as ov

    # OpenVINO's CPU plugin computes in bf16 where the CPU has it, unless told not to:
    # a float32 point must run float32 to be the same model.
    config = {"INFERENCE_PRECISION_HINT": "f32"} if precision == "float32" else {}
    request = ov.Core().compile_model(str(path), "CPU", config).create_infer_request()

    def predict(x: np.ndarray) -> list:
        # Copies: the request's output buffers are reused by its next call.
        return [np.array(v) for v in request.infer({0: x}).values()]

    hint = config.get("INFERENCE_PRECISION_HINT", "default")
    return predict, f"OpenVINO {ov.get_version()} CPU, inference precision {hint}, one request"


def _load_litert(path: Path, precision: str) -> tuple[ArrayPredict, str]:
    try:
        from ai_edge_litert.interpreter import Interpreter

        which = "ai_edge_litert"
    except ImportError:
        from tensorflow.lite import Interpreter

        which = "tf.lite"
    threads = os.cpu_count() or 1
    by_batch: dict[tuple, Any] = {}

    def interpreter_for(shape: tuple) -> Any:
        # One interpreter per input shape: resizing and allocating per call would be timed.
        if shape not in by_batch:
            it = Interpreter(model_path=str(path), num_threads=threads)
            it.resize_tensor_input(it.get_input_details()[0]["index"], list(shape))
            it.allocate_tensors()
            by_batch[shape] = it
        return by_batch[shape]

    def predict(x: np.ndarray) -> list:
        it = interpreter_for(x.shape)
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        return [it.get_tensor(d["index"]) for d in it.get_output_details()]

    return predict, f"{which} Interpreter, num_threads={threads}"


def _load_torch_export(path: Path, precision: str) -> tuple[ArrayPredict, str]:
    import torch

    module = torch.export.load(str(path)).module()

    def predict(x: np.ndarray) -> list:
        with torch.inference_mode():
            out = module(torch.from_numpy(x))
        return [t.numpy() for t in (out if isinstance(out, (list, tuple)) else [out])]

    return (
        predict,
        f"torch.export.load(...).module() under inference_mode, torch {torch.__version__}",
    )


LOADERS = {
    "saved_model": _load_saved_model,
    "onnx": _load_onnx,
    "openvino": _load_openvino,
    "litert": _load_litert,
    "torch_export": _load_torch_export,
}


def load(runtime: str, path: Path, precision: str = "float32") -> tuple[ArrayPredict, str]:
    """Load an exported artifact: (predict returning a list of arrays, description)."""
    _format(runtime)
    try:
        return LOADERS[runtime](path, precision)
    except Exception as exc:
        raise Skip(f"{runtime} artifact did not load: {first_line(exc)}") from exc
