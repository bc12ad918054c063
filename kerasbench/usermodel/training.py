"""How a user's model trains: its saved compile configuration, or the loss and optimizer given.

A ``.keras`` file saved after ``compile`` carries its loss and optimizer, and
``keras.saving.load_model`` restores them; that is what the user trains with, so it is
what we measure. ``--optimizer`` still overrides the optimizer (an axis of the benchmark);
``--loss`` only fills in a missing loss. A model with no loss at all cannot train: the
training point is ``skipped`` with the reason returned here, and ``predict`` still runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainingSetup:
    """What a training point ran with, for the result's settings; ``skip`` says why it cannot."""

    loss: str | None
    optimizer: str | None
    source: str  # "saved", "given", "saved loss, given optimizer", or "none"
    skip: str | None = None


def compile_for_training(
    model: Any,
    loss: str | None = None,
    optimizer: str | None = None,
    learning_rate: float | None = None,
) -> TrainingSetup:
    """Compile ``model`` for training (saved config first) and say with what; never raises for
    a model that simply has no loss — that is ``TrainingSetup.skip``."""
    import keras

    saved_loss = getattr(model, "loss", None) if getattr(model, "compiled", False) else None
    saved_opt = getattr(model, "optimizer", None) if saved_loss is not None else None
    use_loss = saved_loss if saved_loss is not None else loss
    if use_loss is None:
        return TrainingSetup(
            None,
            None,
            "none",
            skip="the model was saved without a compiled loss and no --loss was given",
        )
    if optimizer is not None:
        use_opt = keras.optimizers.get(optimizer)
        if learning_rate is not None:
            use_opt.learning_rate = learning_rate
    elif saved_opt is not None:
        use_opt = saved_opt
    else:
        use_opt = keras.optimizers.get("rmsprop")  # Keras' compile() default
    if saved_loss is None or optimizer is not None:
        model.compile(loss=use_loss, optimizer=use_opt)
    source = "saved" if saved_loss is not None else "given"
    if saved_loss is not None and optimizer is not None:
        source = "saved loss, given optimizer"
    return TrainingSetup(_describe(use_loss), _describe(use_opt), source)


def _describe(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict | list | tuple):
        items = obj.values() if isinstance(obj, dict) else obj
        return ",".join(_describe(v) for v in items)
    return getattr(obj, "name", None) or type(obj).__name__
