"""Seeded synthetic inputs and targets shaped by the user's model itself.

The input signature (names, shapes, dtypes) comes from the model's Keras inputs.
Integer inputs that reach an ``Embedding`` are drawn below its ``input_dim`` (ids past it
would index out of range: an error on some backends, garbage on others); other integer
inputs are drawn from {0, 1}. A dimension other than the batch that the model leaves
unknown must be given, e.g. ``{"image": (32, 32, 3)}`` from ``--input-shapes image=32x32x3``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from kerasbench.usermodel import UserModelError

INT_HIGH_WITHOUT_EMBEDDING = 2  # ids for an integer input that reaches no Embedding


def input_signature(model: Any) -> list[dict[str, Any]]:
    """The model's inputs as JSON-able dicts: name, shape without batch (None = unknown), dtype."""
    tensors = _input_tensors(model)
    return [
        {"name": _name(t), "shape": [d for d in list(t.shape)[1:]], "dtype": str(t.dtype)}
        for t in tensors
    ]


def _input_tensors(model: Any) -> list[Any]:
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise UserModelError(
            f"model {model.name!r} has no known inputs (a subclassed model that was never "
            "built); build it on an input before returning it"
        )
    return list(inputs)


def _name(tensor: Any) -> str:
    return tensor.name.split(":")[0]


def resolve_shapes(
    model: Any, input_shapes: Mapping[str, tuple[int, ...]] | None = None
) -> dict[str, tuple[int, ...]]:
    """Each input's per-sample shape: the model's own, or the one given where it is unknown."""
    given = dict(input_shapes or {})
    names = [s["name"] for s in input_signature(model)]
    for name in given:
        if name not in names:
            raise UserModelError(f"--input-shapes {name}: the model has no such input ({names})")
    shapes = {}
    for sig in input_signature(model):
        name, shape = sig["name"], sig["shape"]
        if name in given:
            want = given[name]
            fits = len(want) == len(shape) and all(
                d is None or d == w for d, w in zip(shape, want, strict=True)
            )
            if not fits:
                raise UserModelError(
                    f"--input-shapes {name}={'x'.join(map(str, want))} does not fit the "
                    f"model's shape {tuple(shape)} (None = any)"
                )
            shape = list(want)
        if any(d is None for d in shape):
            raise UserModelError(
                f"input {name!r} has unknown dimensions {tuple(shape)}; give them with "
                f"--input-shapes {name}=" + "x".join("N" if d is None else str(d) for d in shape)
            )
        shapes[name] = tuple(shape)
    return shapes


def embedding_bounds(model: Any) -> dict[str, int]:
    """For each input that reaches an ``Embedding``, the smallest ``input_dim`` it reaches."""
    import keras

    embeddings = [
        layer for layer in _all_layers(model) if isinstance(layer, keras.layers.Embedding)
    ]
    if not embeddings:
        return {}
    bounds = {}
    for tensor in _input_tensors(model):
        reached = _reachable_layers(tensor, model)
        dims = [e.input_dim for e in embeddings if id(e) in reached]
        if reached is None:  # no graph to follow (subclassed model): every embedding counts
            dims = [e.input_dim for e in embeddings]
        if dims:
            bounds[_name(tensor)] = min(dims)
    return bounds


def _all_layers(model: Any) -> list[Any]:
    return list(model._flatten_layers(include_self=False, recursive=True))


def _reachable_layers(tensor: Any, model: Any) -> set[int] | None:
    """ids of the layers fed, directly or not, by ``tensor``; None if the graph is unknown."""
    layers = _all_layers(model)
    if not any(getattr(layer, "_inbound_nodes", None) for layer in layers):
        return None
    reached_tensors, reached_layers = {id(tensor)}, set()
    changed = True
    while changed:  # a fixed point over the layers' call nodes; models are small graphs
        changed = False
        for layer in layers:
            for node in getattr(layer, "_inbound_nodes", []):
                ins = [id(t) for t in node.input_tensors]
                if any(i in reached_tensors for i in ins):
                    outs = {id(t) for t in node.output_tensors}
                    if id(layer) not in reached_layers or not outs <= reached_tensors:
                        reached_layers.add(id(layer))
                        reached_tensors |= outs
                        changed = True
    return reached_layers


def synthesize_inputs(
    model: Any,
    batch_size: int,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
    seed: int = 0,
) -> Any:
    """Seeded inputs for ``model``: one array, or a dict by input name when it has several."""
    rng = np.random.default_rng(seed)
    shapes = resolve_shapes(model, input_shapes)
    bounds = embedding_bounds(model)
    arrays = {}
    for sig in input_signature(model):
        name, dtype = sig["name"], np.dtype(_numpy_dtype(sig["dtype"]))
        shape = (batch_size, *shapes[name])
        if dtype == np.bool_:
            arrays[name] = rng.random(shape) < 0.5
        elif np.issubdtype(dtype, np.integer):
            high = bounds.get(name, INT_HIGH_WITHOUT_EMBEDDING)
            arrays[name] = rng.integers(0, high, size=shape, dtype=dtype)
        else:
            arrays[name] = rng.standard_normal(shape).astype(dtype)
    if len(arrays) == 1:
        return next(iter(arrays.values()))
    return arrays


def _numpy_dtype(name: str) -> str:
    return "float32" if name in ("bfloat16", "float16") else name


def synthesize_targets(model: Any, inputs: Any, loss: Any, seed: int = 0) -> Any:
    """Seeded targets matching ``model``'s outputs on ``inputs`` and its ``loss``.

    Sparse categorical losses get class ids below the last output dimension; categorical
    ones one-hot rows; binary ones 0/1; anything else (regression) standard normals.
    """
    import keras

    rng = np.random.default_rng(seed + 1)
    symbolic = keras.tree.map_structure(
        lambda a: keras.KerasTensor(a.shape, dtype=str(a.dtype)), inputs
    )
    spec = model.compute_output_spec(symbolic)
    name = _loss_name(loss)

    def target(out: Any) -> np.ndarray:
        shape = tuple(out.shape)
        if "sparse_categorical" in name:
            return rng.integers(0, shape[-1], size=shape[:-1]).astype("int32")
        if "categorical" in name:
            ids = rng.integers(0, shape[-1], size=shape[:-1])
            return np.eye(shape[-1], dtype="float32")[ids]
        if "binary" in name or "hinge" in name:
            return (rng.random(shape) < 0.5).astype("float32")
        return rng.standard_normal(shape).astype("float32")

    return keras.tree.map_structure(target, spec)


def _loss_name(loss: Any) -> str:
    if isinstance(loss, str):
        return loss.lower()
    if isinstance(loss, dict | list | tuple):
        return ",".join(_loss_name(v) for v in (loss.values() if isinstance(loss, dict) else loss))
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", str(name)).lower()
