"""Native baselines: equal work with the Keras models (parameter counts, FLOPs, forward
outputs with copied weights) and one step of every torch-native and jax-native model.

The Keras side runs once, in a subprocess with its own KERAS_BACKEND
(kerasbench.native.keras_reference), so this module imports no Keras.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kerasbench.models import get_model
from kerasbench.native import image_shape, make_native, native_name, torch_models
from kerasbench.native.equal_work import (
    expected_state_difference,
    keras_weights_to_flax,
    keras_weights_to_torch,
    native_work,
)
from kerasbench.native.optim import OPTIMIZERS, OptimizerChoice

ROOT = Path(__file__).resolve().parent.parent


def _missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def _needs(*modules: str) -> pytest.MarkDecorator:
    missing = _missing(*modules)
    return pytest.mark.skipif(bool(missing), reason=f"missing {', '.join(missing)}")


def _torchvision_error() -> str | None:
    """Why torchvision does not import (a build that does not match torch), or None.

    Asked in a subprocess: a failed import leaves torch's operator registry half-filled.
    """
    if _missing("torch", "torchvision"):
        return f"missing {', '.join(_missing('torch', 'torchvision'))}"
    proc = subprocess.run(
        [sys.executable, "-c", "import torchvision"], capture_output=True, text=True, timeout=300
    )
    lines = proc.stderr.strip().splitlines()
    return None if proc.returncode == 0 else f"torchvision does not import: {lines[-1][:200]}"


TORCHVISION_ERROR = _torchvision_error()
NEEDS = {
    "torch": _needs("torch"),
    "torchvision": pytest.mark.skipif(TORCHVISION_ERROR is not None, reason=str(TORCHVISION_ERROR)),
    "jax": _needs("jax", "flax", "optax"),
}
# Every native model, at the smallest size its Keras model has (full resnet50 is only counted).
TORCH_POINTS = (
    "mnist_mlp",
    "cifar10_cnn",
    "lstm_tiny",
    "gru_tiny",
    "resnet50_tiny",
    "vgg16_tiny",
    "mobilenet_v2_tiny",
    "efficientnet_b0_tiny",
)
JAX_POINTS = ("mnist_mlp", "cifar10_cnn", "lstm_tiny", "gru_tiny", "resnet50_tiny")
COUNTED = (*TORCH_POINTS, "resnet50", "lstm", "gru")
WEIGHT_COPY = ("mnist_mlp", "cifar10_cnn")


def _marks(framework: str, model: str) -> list[pytest.MarkDecorator]:
    marks = [NEEDS[framework]]
    if framework == "torch" and native_name(model) in torch_models.TORCHVISION:
        marks.append(NEEDS["torchvision"])
    return marks


def _pairs(points: dict[str, tuple[str, ...]]) -> list[object]:
    return [
        pytest.param(fw, m, marks=_marks(fw, m), id=f"{fw}-{m}")
        for fw, ms in points.items()
        for m in ms
    ]


def _sample_shape(framework: str, model: str) -> tuple[int, ...]:
    """One sample of ``model`` (a kerasbench name) at its defaults, in the framework's layout."""
    info = get_model(model)
    if info.input_kind == "image":
        return image_shape(framework, info.default_image_size)
    if info.input_kind == "sequence":
        return (info.default_seq_len, info.vector_size)
    return (info.vector_size,)


def _runner(framework: str, model: str, **kw: object) -> object:
    info = get_model(model)
    shape = _sample_shape(framework, model)
    return make_native(
        framework, native_name(model), shape, info.num_classes, hparams=info.hparams, **kw
    )


@pytest.fixture(scope="module")
def keras_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Counts, FLOPs, weights and probe outputs of the Keras models, from one subprocess."""
    # Parameter counts and FLOPs do not depend on the Keras backend: any installed one will
    # do, and eager PyTorch builds and runs these models fastest (11 models: 10 s, JAX 53 s).
    installed = [b for b in ("torch", "jax", "tensorflow") if not _missing("keras", b)]
    backend = installed[0] if installed else None
    if backend is None:
        pytest.skip("no Keras backend installed for the Keras side of the checks")
    out = tmp_path_factory.mktemp("keras_reference")
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    module = "kerasbench.native.keras_reference"
    weights = "--weights=" + ",".join(WEIGHT_COPY)
    proc = subprocess.run(
        [sys.executable, "-m", module, str(out), weights, *COUNTED],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _reference(directory: Path, model: str) -> dict:
    return json.loads((directory / "reference.json").read_text())[model]


@pytest.mark.parametrize(
    ("framework", "model"),
    _pairs({"torch": COUNTED, "jax": (*JAX_POINTS, "resnet50", "lstm", "gru")}),
)
def test_parameters_and_flops_equal_the_keras_model(
    framework: str, model: str, keras_reference: Path
) -> None:
    keras = _reference(keras_reference, model)
    info = get_model(model)
    work = native_work(
        framework,
        native_name(model),
        _sample_shape(framework, model),
        info.num_classes,
        info.hparams,
    )
    assert work.params.trainable == keras["trainable"]
    diff = expected_state_difference(framework, native_name(model), info.hparams)
    assert work.params.non_trainable == keras["non_trainable"] + diff
    assert keras["flops_uncounted"] == []
    assert work.forward_flops_per_sample == keras["forward_flops_per_sample"]


@pytest.mark.parametrize(("framework", "model"), _pairs({"torch": WEIGHT_COPY, "jax": WEIGHT_COPY}))
def test_keras_weights_give_the_same_outputs(
    framework: str, model: str, keras_reference: Path
) -> None:
    with np.load(keras_reference / f"{model}.npz", allow_pickle=False) as saved:
        probe, expected = saved["probe"], saved["output"]
        weights = [saved[k] for k in sorted(saved.files) if k.startswith("w")]
    runner = _runner(framework, model)
    if framework == "torch":
        keras_weights_to_torch(model, weights, runner.module)
        if probe.ndim == 4:
            probe = probe.transpose(0, 3, 1, 2)  # NHWC -> NCHW
    else:
        runner.state = runner.state.replace(
            params=keras_weights_to_flax(model, weights, runner.state.params)
        )
    got = runner.to_host(runner.predict_step(runner.to_device(probe)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def _weights(runner: object) -> list[np.ndarray]:
    """The trainable weights of a native runner, copied to the host."""
    if runner.framework == "torch":
        return [p.detach().numpy().copy() for p in runner.module.parameters() if p.requires_grad]
    import jax

    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(runner.state.params)]


@pytest.mark.parametrize(("framework", "model"), _pairs({"torch": TORCH_POINTS, "jax": JAX_POINTS}))
def test_one_train_step_and_predict(framework: str, model: str) -> None:
    runner = _runner(framework, model, optimizer="momentum")
    info = get_model(model)
    rng = np.random.default_rng(0)
    x = rng.random((2, *runner.input_shape), dtype=np.float32)
    y = rng.integers(0, info.num_classes, size=2).astype(np.int32)
    probs = runner.to_host(runner.predict_step(runner.to_device(x)))
    assert probs.shape == (2, info.num_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    before = _weights(runner)
    loss = float(runner.train_step(runner.to_device(x), runner.to_device(y)))
    runner.sync()
    after = _weights(runner)
    assert np.isfinite(loss) and loss > 0
    # The update is what is checked, not outputs after it: batch 2 at 32x32 makes ResNet's
    # gradients huge. Not every tensor moves: a convolution bias right before batch norm
    # gets an exactly zero gradient in torch, and ReLU6 units die at 1x1 spatial size.
    assert all(np.isfinite(a).all() for a in after)
    moved = sum(not np.array_equal(b, a) for b, a in zip(before, after, strict=True))
    assert moved >= 0.9 * len(before), f"{moved} of {len(before)} weight tensors moved"


@pytest.mark.parametrize("framework", [pytest.param(f, marks=NEEDS[f]) for f in ("torch", "jax")])
def test_fit_runs_epochs_and_stops_on_request(framework: str) -> None:
    runner = _runner(framework, "mnist_mlp", optimizer="adam")
    x = np.random.default_rng(1).random((12, 784), dtype=np.float32)
    y = (np.arange(12) % 10).astype(np.int32)
    loader = runner.make_loader(x, y, batch_size=4)
    seen: list[int] = []
    loss = runner.fit(loader, epochs=2, on_batch_end=lambda step, _: seen.append(step))
    assert seen == list(range(6)) and np.isfinite(loss)
    seen.clear()
    runner.fit(loader, epochs=5, on_batch_end=lambda step, _: seen.append(step) or step == 3)
    assert seen == [0, 1, 2, 3]
    assert runner.predict(loader).shape == (12, 10)


@NEEDS["torch"]
def test_torch_optimizers_get_keras_defaults() -> None:
    import torch

    params = [torch.nn.Parameter(torch.zeros(2))]
    groups = {name: OptimizerChoice.of(name).torch(params).defaults for name in OPTIMIZERS}
    assert groups["sgd"]["lr"] == 0.01 and groups["sgd"]["momentum"] == 0
    assert groups["momentum"]["momentum"] == 0.9
    assert (groups["rmsprop"]["alpha"], groups["rmsprop"]["eps"]) == (0.9, 1e-7)
    assert (groups["adam"]["betas"], groups["adam"]["eps"]) == ((0.9, 0.999), 1e-7)
    assert groups["adamw"]["weight_decay"] == 0.004 and groups["adamw"]["lr"] == 0.001


@pytest.mark.skipif(bool(_missing("torch", "optax")), reason="needs torch and optax")
@pytest.mark.parametrize("name", ["sgd", "momentum", "adamw"])
def test_torch_and_optax_take_the_same_steps(name: str) -> None:
    """Where torch's and optax' formulas coincide, three steps give the same weights."""
    import jax.numpy as jnp
    import torch

    choice = OptimizerChoice.of(name, 0.1)
    w0, grads = (
        np.array([1.0, -2.0, 3.0]),
        [np.array(g) for g in ([1, 2, 3], [0, -1, 2], [3, 0, 1])],
    )
    param = torch.nn.Parameter(torch.tensor(w0))
    opt = choice.torch([param])
    tx = choice.optax()
    w, state = jnp.asarray(w0), tx.init(jnp.asarray(w0))
    for g in grads:
        param.grad = torch.tensor(g.astype(np.float64))
        opt.step()
        updates, state = tx.update(jnp.asarray(g, dtype=w.dtype), state, w)
        w = w + updates
    np.testing.assert_allclose(np.asarray(w), param.detach().numpy(), rtol=1e-5)


@NEEDS["torch"]
def test_torch_compile_default_mode_trains() -> None:
    runner = _runner("torch", "mnist_mlp", compile="default")
    x = np.random.default_rng(2).random((4, 784), dtype=np.float32)
    y = np.arange(4, dtype=np.int32)
    loss = float(runner.train_step(runner.to_device(x), runner.to_device(y)))
    assert np.isfinite(loss)
    assert runner.settings()["torch_compile"] == "default"


def test_bad_names_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'"):
        OptimizerChoice.of("adagrad")
    with pytest.raises(ValueError, match="no jax-native model 'vgg16'"):
        make_native("jax", "vgg16", (32, 32, 3), 10)
    with pytest.raises(ValueError, match="unknown native framework 'tf'"):
        make_native("tf", "mnist_mlp", (784,), 10)
