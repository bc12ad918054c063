"""The user's own model in the worker: load or build it, compile it, make its inputs.

``--model-path`` names a ``.keras`` file (loaded with safe_mode unless
``--trust-model-code``) or a ``FILE.py:FUNCTION`` / ``MODULE:FUNCTION`` builder (the
user's trusted code). Inputs and targets come from the model's own signature
(``kerasbench.usermodel.signature``); training uses its saved loss and optimizer unless
``--optimizer`` (or a missing loss, ``--loss``) says otherwise, and a model that has no
loss at all makes its training points ``skipped`` (``NoTraining``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kerasbench.spec import Spec
from kerasbench.usermodel import parse_input_shapes, parse_model_args
from kerasbench.usermodel.precheck import split_list
from kerasbench.worker.protocol import PointSkipped

TRAINING_MODES = ("fit", "train_on_batch")


class NoTraining(PointSkipped):
    """A training point of a model that has no loss: the point is ``skipped`` with this."""


@dataclass
class UserModel:
    """A built user model and what the record says about it."""

    model: Any
    record: dict[str, Any]  # RawMeasurement fields: model_sha256, params, input_signature
    settings: dict[str, Any] = field(default_factory=dict)


def is_keras_file(path: str) -> bool:
    return path.endswith(".keras") or ":" not in path


def build(spec: Spec) -> UserModel:
    """Load or build ``spec``'s model and compile it for a training mode."""
    from kerasbench.usermodel import identity
    from kerasbench.usermodel.function import from_function, resolve_function, split_ref
    from kerasbench.usermodel.load import load_model

    path = spec.model_path
    if is_keras_file(path):
        model = load_model(path, spec.trust_model_code, spec.custom_objects or None)
        sha = identity.file_sha256(path)
    else:
        kwargs = parse_model_args(split_list(spec.model_args))
        model = from_function(path, kwargs)
        _, source = resolve_function(path)
        sha = identity.function_sha256(source, split_ref(path)[1], kwargs)
    ident = identity.model_identity(model, sha, path)
    record = {
        "model_sha256": sha,
        "params": ident["params"],
        "input_signature": describe_signature(ident["inputs"]),
    }
    settings: dict[str, Any] = {"model_origin": path, "loss": None}  # predict: no loss
    if spec.mode in TRAINING_MODES:
        settings.update(_compile(model, spec))
    return UserModel(model, record, settings)


def _compile(model: Any, spec: Spec) -> dict[str, Any]:
    from kerasbench.usermodel.training import compile_for_training
    from kerasbench.worker.engines import describe_optimizer, make_optimizer

    optimizer = make_optimizer(spec) if spec.optimizer else None
    setup = compile_for_training(model, spec.loss or None, optimizer)
    if setup.skip:
        raise NoTraining(f"your model cannot train: {setup.skip}")
    return {
        "loss": setup.loss,
        "optimizer": describe_optimizer(model.optimizer),
        "compile_source": setup.source,
    }


def arrays(model: Any, spec: Spec, n_rows: int) -> tuple[Any, Any]:
    """``n_rows`` seeded input rows for ``model`` and, for a training mode, their targets."""
    from kerasbench.usermodel.signature import synthesize_inputs, synthesize_targets

    shapes = parse_input_shapes(split_list(spec.input_shapes))
    x = synthesize_inputs(model, n_rows, shapes, spec.seed)
    if spec.mode not in TRAINING_MODES:
        return x, None
    return x, synthesize_targets(model, x, model.loss, spec.seed)


def describe_signature(inputs: list[dict[str, Any]]) -> str:
    """``"image:32x32x3:float32, ids:?:int32"``: the model's inputs in one readable line."""
    parts = []
    for sig in inputs:
        dims = "x".join("?" if d is None else str(d) for d in sig["shape"]) or "scalar"
        parts.append(f"{sig['name']}:{dims}:{sig['dtype']}")
    return ", ".join(parts)
