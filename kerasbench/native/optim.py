"""The Keras optimizers kerasbench names, mapped to torch.optim and optax with Keras' defaults.

Each name stands for one Keras optimizer with its default hyperparameters
(keras/src/optimizers/*.py); the native side gets the same numbers:

- ``sgd``: Keras SGD(lr=0.01); torch SGD(lr); optax sgd(lr)
- ``momentum``: Keras SGD(lr=0.01, momentum=0.9); torch SGD(lr, momentum=0.9);
  optax sgd(lr, momentum=0.9)
- ``rmsprop``: Keras RMSprop(lr=0.001, rho=0.9, epsilon=1e-7); torch
  RMSprop(lr, alpha=0.9, eps=1e-7); optax rmsprop(lr, decay=0.9, eps=1e-7, eps_in_sqrt=True)
- ``adam``: Keras Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7); torch
  Adam(lr, betas=(0.9, 0.999), eps=1e-7); optax adam(lr, b1=0.9, b2=0.999, eps=1e-7)
- ``adamw``: Keras AdamW(lr=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
  epsilon=1e-7); torch AdamW(lr, betas=(0.9, 0.999), eps=1e-7, weight_decay=0.004);
  optax adamw(lr, b1=0.9, b2=0.999, eps=1e-7, weight_decay=0.004)

Where the formulas differ, the work per step does not: Keras and optax put
RMSprop's epsilon inside the square root (sqrt(v + eps)), torch outside
(sqrt(v) + eps); Keras' Adam applies epsilon to the uncorrected second moment
("epsilon hat"), torch and optax to the bias-corrected one. Keras' momentum
(v = m v - lr g) and torch's/optax' (b = m b + g; w -= lr b) give the same
weights for a constant learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Keras' defaults for each name: what the native optimizers are given.
KERAS_DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"learning_rate": 0.01},
    "momentum": {"learning_rate": 0.01, "momentum": 0.9},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "adamw": {
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "weight_decay": 0.004,
    },
}
OPTIMIZERS = tuple(KERAS_DEFAULTS)


@dataclass(frozen=True)
class OptimizerChoice:
    """One optimizer name and the learning rate it runs with (Keras' default when None)."""

    name: str
    learning_rate: float

    @classmethod
    def of(cls, name: str, learning_rate: float | None = None) -> OptimizerChoice:
        if name not in KERAS_DEFAULTS:
            raise ValueError(f"unknown optimizer {name!r}; valid: {', '.join(OPTIMIZERS)}")
        if learning_rate is None:
            learning_rate = KERAS_DEFAULTS[name]["learning_rate"]
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
        return cls(name, float(learning_rate))

    @property
    def hparams(self) -> dict[str, float]:
        return {**KERAS_DEFAULTS[self.name], "learning_rate": self.learning_rate}

    def keras(self) -> Any:
        """The Keras optimizer this choice stands for (imports Keras)."""
        import keras

        h = self.hparams
        if self.name in ("sgd", "momentum"):
            return keras.optimizers.SGD(**h)
        cls = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}
        return cls.get(self.name, keras.optimizers.AdamW)(**h)

    def torch(self, params: Any) -> Any:
        """The torch.optim optimizer over ``params`` with Keras' hyperparameters."""
        import torch

        h = self.hparams
        lr = h["learning_rate"]
        if self.name == "sgd":
            return torch.optim.SGD(params, lr=lr)
        if self.name == "momentum":
            return torch.optim.SGD(params, lr=lr, momentum=h["momentum"])
        if self.name == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr, alpha=h["rho"], eps=h["epsilon"])
        betas = (h["beta_1"], h["beta_2"])
        if self.name == "adam":
            return torch.optim.Adam(params, lr=lr, betas=betas, eps=h["epsilon"])
        return torch.optim.AdamW(
            params, lr=lr, betas=betas, eps=h["epsilon"], weight_decay=h["weight_decay"]
        )

    def optax(self) -> Any:
        """The optax GradientTransformation with Keras' hyperparameters."""
        import optax

        h = self.hparams
        lr = h["learning_rate"]
        if self.name == "sgd":
            return optax.sgd(lr)
        if self.name == "momentum":
            return optax.sgd(lr, momentum=h["momentum"])
        if self.name == "rmsprop":
            return optax.rmsprop(lr, decay=h["rho"], eps=h["epsilon"], eps_in_sqrt=True)
        b1, b2, eps = h["beta_1"], h["beta_2"], h["epsilon"]
        if self.name == "adam":
            return optax.adam(lr, b1=b1, b2=b2, eps=eps)
        return optax.adamw(lr, b1=b1, b2=b2, eps=eps, weight_decay=h["weight_decay"])

    def describe(self) -> str:
        """What goes in a result's settings, e.g. ``adam(learning_rate=0.001, ...)``."""
        args = ", ".join(f"{k}={v:g}" for k, v in self.hparams.items())
        return f"{self.name}({args})"
