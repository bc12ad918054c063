"""Native baselines: kerasbench's models in plain PyTorch and in Flax, doing the Keras models' work.

The ``torch-native`` and ``jax-native`` backends measure these beside the
Keras backends, so that a report can show what Keras itself costs. This
package imports no framework until a model is built.

Entry point for a worker engine::

    runner = make_native("torch", "resnet50", image_shape("torch", 224), 1000,
                         optimizer="sgd", compile="default")
    x, y = runner.to_device(x_np), runner.to_device(y_np)
    loss = runner.train_step(x, y)          # one optimizer step, loss stays on the device
    probs = runner.predict_step(x)          # softmax probabilities, on the device
    runner.sync()                           # at the edges of a timed window
    runner.fit(runner.make_loader(x_np, y_np, batch), epochs, on_batch_end)
    runner.param_counts(), runner.forward_flops_per_sample(), runner.settings()

Both runners (``TorchNative``, ``FlaxNative``) have these same methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kerasbench.native.common import PRECISIONS, NativeConfig, ParamCounts, image_shape

FRAMEWORKS = ("torch", "jax")
# The backend names the registry uses for them.
BACKEND_OF = {"torch": "torch-native", "jax": "jax-native"}
TORCH_MODELS = ("resnet50", "vgg16", "mobilenet_v2", "efficientnet_b0") + (
    "mnist_mlp",
    "cifar10_cnn",
    "lstm",
    "gru",
)
JAX_MODELS = ("mnist_mlp", "cifar10_cnn", "resnet50", "lstm", "gru")
MODELS = {"torch": TORCH_MODELS, "jax": JAX_MODELS}

__all__ = [
    "BACKEND_OF",
    "FRAMEWORKS",
    "MODELS",
    "PRECISIONS",
    "NativeConfig",
    "ParamCounts",
    "image_shape",
    "make_native",
    "native_name",
    "supports",
]


def native_name(model: str) -> str:
    """The native architecture behind a kerasbench model name (a tiny variant's full model)."""
    from kerasbench.models import get_model

    info = get_model(model)
    return info.tiny_of or info.name


def supports(framework: str, model: str) -> bool:
    """Whether ``framework`` has a native version of the kerasbench model ``model``."""
    if framework not in MODELS:
        raise ValueError(f"unknown native framework {framework!r}; valid: {', '.join(MODELS)}")
    return native_name(model) in MODELS[framework]


def make_native(
    framework: str,
    model: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    hparams: Mapping[str, Any] | None = None,
    precision: str = "float32",
    optimizer: str = "sgd",
    learning_rate: float | None = None,
    compile: str = "eager",
    device: str = "cpu",
    seed: int = 0,
) -> Any:
    """A ``TorchNative`` or ``FlaxNative`` for ``model`` (a native name, see ``native_name``).

    ``input_shape`` is one sample in the framework's layout (``image_shape``);
    ``hparams`` the Keras model's ``ModelInfo.hparams``; ``optimizer`` one of
    ``optim.OPTIMIZERS`` with Keras' defaults, ``learning_rate`` None for
    Keras' default. ``compile``: torch ``eager`` | ``default`` | ``max-autotune``;
    JAX is always jitted and takes only ``jit``.
    """
    if framework not in MODELS:
        raise ValueError(f"unknown native framework {framework!r}; valid: {', '.join(MODELS)}")
    if model not in MODELS[framework]:
        valid = ", ".join(MODELS[framework])
        raise ValueError(f"no {framework}-native model {model!r}; valid: {valid}")
    config = NativeConfig(
        model,
        tuple(input_shape),
        num_classes,
        hparams=hparams or {},
        precision=precision,
        optimizer=optimizer,
        learning_rate=learning_rate,
        compile=compile,
        device=device,
        seed=seed,
    )
    if framework == "torch":
        from kerasbench.native.torch_steps import TorchNative

        return TorchNative(config)
    from kerasbench.native.jax_steps import FlaxNative

    return FlaxNative(config)
