"""The user's own model: safe loading, function builders, synthesised inputs, identity.

Keras work runs in subprocesses (one backend per process, as in the worker); the
checks that need no framework (bad files, bad references) run here directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from kerasbench.usermodel import UserModelError, parse_input_shapes, parse_model_args
from kerasbench.usermodel.function import check_kwargs, resolve_function
from kerasbench.usermodel.load import load_model
from tests.conftest import backend_params

ROOT = Path(__file__).resolve().parent.parent

CUSTOM_LAYERS = """
import keras

class Doubler(keras.layers.Layer):
    def call(self, x):
        return 2.0 * x
"""

BUILDERS = """
import keras

def build(width=4, depth=1, use_bias=True):
    inputs = keras.Input((6,), name="features")
    x = inputs
    for _ in range(depth):
        x = keras.layers.Dense(width, use_bias=use_bias)(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x))

def not_a_model():
    return "a string"
"""

# Saves the test models under JAX; the lambda model's function touches a marker file.
MAKE_MODELS = """
import sys, keras
from pathlib import Path
out = Path(sys.argv[1])
sys.path.insert(0, str(out))
import custom_layers

tokens = keras.Input((8,), dtype="int32", name="tokens")
features = keras.Input((None, 4), name="features")
x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(50, 8)(tokens))
y = keras.layers.GlobalAveragePooling1D()(keras.layers.Dense(8)(features))
model = keras.Model([tokens, features], keras.layers.Dense(3)(keras.layers.Concatenate()([x, y])))
model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
model.save(out / "plain.keras")

inputs = keras.Input((5,), name="x")
keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(out / "uncompiled.keras")
keras.Model(inputs, custom_layers.Doubler(name="doubler")(inputs)).save(out / "custom.keras")
touch = eval("lambda t: (__import__('pathlib').Path(%r).touch(), t)[1]" % str(out / "MARKER"))
keras.Model(inputs, keras.layers.Lambda(touch, name="sneaky")(inputs)).save(out / "lambda.keras")
(out / "MARKER").unlink(missing_ok=True)  # building the model ran the lambda once
"""

# Loads and runs the saved models on one backend; prints one JSON line.
RUN_MODELS = """
import json, sys, numpy as np
from pathlib import Path
from kerasbench.usermodel import UserModelError
from kerasbench.usermodel.load import load_model
from kerasbench.usermodel.function import from_function
from kerasbench.usermodel.signature import synthesize_inputs, synthesize_targets
from kerasbench.usermodel.training import compile_for_training
from kerasbench.usermodel.identity import file_sha256, model_identity
out, train = Path(sys.argv[1]), sys.argv[2] == "train"
report = {}
model = load_model(out / "plain.keras")
try:
    synthesize_inputs(model, 4, seed=1)
except UserModelError as error:
    report["unresolved"] = str(error)
x = synthesize_inputs(model, 4, {"features": (3, 4)}, seed=1)
report["tokens_max"] = int(x["tokens"].max())
report["predict_shape"] = list(np.asarray(model.predict(x, verbose=0)).shape)
report["identity"] = model_identity(model, file_sha256(out / "plain.keras"), "plain.keras")
custom = load_model(out / "custom.keras", custom_objects_file=out / "custom_layers.py")
report["custom"] = np.asarray(custom.predict(np.ones((1, 5), "float32"), verbose=0)).tolist()
built = from_function(str(out / "builders.py") + ":build", {"width": 3, "depth": 2})
report["function_params"] = built.count_params()
try:
    from_function("builders.py:not_a_model", base_dir=out)
except UserModelError as error:
    report["not_a_model"] = str(error)
if train:
    setup = compile_for_training(model)
    report["setup"] = [setup.loss, setup.optimizer, setup.source, setup.skip]
    loss = model.train_on_batch(x, synthesize_targets(model, x, model.loss, seed=1))
    report["loss_finite"] = bool(np.isfinite(np.asarray(loss)).all())
    bare = compile_for_training(load_model(out / "uncompiled.keras"))
    report["bare_skip"] = bare.skip
    given = load_model(out / "uncompiled.keras")
    setup = compile_for_training(given, loss="mse", optimizer="sgd", learning_rate=0.1)
    report["given"] = [setup.loss, setup.optimizer, setup.source]
    xs = synthesize_inputs(given, 2)
    given.train_on_batch(xs, synthesize_targets(given, xs, "mse"))
print("RESULT " + json.dumps(report))
"""


def _python(script: str, *args: str, backend: str = "jax", timeout: float = 300) -> str:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the test models (saved under JAX) and the user's Python files."""
    pytest.importorskip("jax")
    out = tmp_path_factory.mktemp("usermodels")
    (out / "custom_layers.py").write_text(CUSTOM_LAYERS)
    (out / "builders.py").write_text(BUILDERS)
    _python(MAKE_MODELS, str(out))
    return out


@pytest.mark.parametrize("backend", backend_params(("jax", "tensorflow", "torch", "openvino")))
def test_model_saved_under_jax_runs_on_each_backend(saved: Path, backend: str) -> None:
    train = backend != "openvino"  # OpenVINO is inference only
    stdout = _python(RUN_MODELS, str(saved), "train" if train else "predict", backend=backend)
    report = json.loads(stdout.split("RESULT ", 1)[1])
    assert (
        "'features'" in report["unresolved"] and "--input-shapes features=" in report["unresolved"]
    )
    assert 0 <= report["tokens_max"] < 50  # inside the Embedding's input_dim
    assert report["predict_shape"] == [4, 3]
    identity = report["identity"]
    assert len(identity["sha256"]) == 64 and identity["params"] == 50 * 8 + 4 * 8 + 8 + 16 * 3 + 3
    assert identity["inputs"] == [
        {"name": "tokens", "shape": [8], "dtype": "int32"},
        {"name": "features", "shape": [None, 4], "dtype": "float32"},
    ]
    assert report["custom"] == [[2.0] * 5]
    assert report["function_params"] == (6 * 3 + 3) + (3 * 3 + 3) + (3 * 2 + 2)
    assert "returned str, not a keras.Model" in report["not_a_model"]
    if train:
        loss, optimizer, source, skip = report["setup"]
        assert (source, skip, optimizer) == ("saved", None, "adam")
        assert "sparse_categorical_crossentropy" in loss and report["loss_finite"]
        assert "without a compiled loss" in report["bare_skip"]
        assert report["given"] == ["mse", "sgd", "given"]


def test_unsafe_model_is_refused_and_runs_nothing(saved: Path) -> None:
    marker = saved / "MARKER"
    marker.unlink(missing_ok=True)
    with pytest.raises(UserModelError) as refused:
        load_model(saved / "lambda.keras")
    message = str(refused.value)
    assert "\n" not in message and "'sneaky'" in message and "--trust-model-code" in message
    assert not marker.exists()
    # The control: Keras with safe mode off does run the file's code on loading.
    _python(
        "import sys, keras; keras.saving.load_model(sys.argv[1], safe_mode=False)",
        str(saved / "lambda.keras"),
    )
    assert marker.exists()
    marker.unlink()
    # ... and so does our loader when the user trusts the file.
    _python(
        "import sys; from kerasbench.usermodel.load import load_model;"
        "load_model(sys.argv[1], trust_code=True)",
        str(saved / "lambda.keras"),
    )
    assert marker.exists()


def test_custom_class_without_its_code_is_refused(saved: Path) -> None:
    with pytest.raises(UserModelError, match=r"layer 'doubler' uses .*--custom-objects"):
        load_model(saved / "custom.keras")


def _one_line(error: pytest.ExceptionInfo[UserModelError], *parts: str) -> None:
    assert "\n" not in str(error.value)
    for part in parts:
        assert part in str(error.value)


def test_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UserModelError) as error:
        load_model(tmp_path / "absent.keras")
    _one_line(error, "absent.keras", "no such file")
    text = tmp_path / "model.keras"
    text.write_text("not a zip at all")
    with pytest.raises(UserModelError) as error:
        load_model(text)
    _one_line(error, "model.keras", "not a zip file")
    other = tmp_path / "other.keras"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(UserModelError) as error:
        load_model(other)
    _one_line(error, "other.keras", "not a Keras model")
    with pytest.raises(UserModelError) as error:
        load_model(other, custom_objects_file=tmp_path / "nope.py")
    _one_line(error, "not a Keras model")


def test_bad_function_references_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "builders.py").write_text(BUILDERS)
    cases = {
        "builders.py": "expected FILE.py:FUNCTION",
        "missing.py:build": "no such file",
        "builders.py:absent": "has no function 'absent'",
        "no_such_package_xyz.mod:build": "no module 'no_such_package_xyz'",
    }
    for ref, expected in cases.items():
        with pytest.raises(UserModelError) as error:
            resolve_function(ref, base_dir=tmp_path)
        _one_line(error, expected)
    func, source = resolve_function("builders.py:build", base_dir=tmp_path)
    assert source == tmp_path / "builders.py"
    check_kwargs(func, {"width": 3, "use_bias": False}, "builders.py:build")
    with pytest.raises(UserModelError) as error:
        check_kwargs(func, {"widht": 3}, "builders.py:build")
    _one_line(error, "--model-arg widht", "takes: width, depth, use_bias")


def test_model_args_and_input_shapes_parse() -> None:
    assert parse_model_args(["a=3", "b=0.5", "c=true", "d=relu", "e=False"]) == {
        "a": 3,
        "b": 0.5,
        "c": True,
        "d": "relu",
        "e": False,
    }
    assert parse_input_shapes(["image=32x32x3", "tokens=128"]) == {
        "image": (32, 32, 3),
        "tokens": (128,),
    }
    for bad in ("novalue", "1x=2", "=3"):
        with pytest.raises(UserModelError, match="--model-arg"):
            parse_model_args([bad])
    for bad in ("image", "image=32xx3", "image=0x3", "=3"):
        with pytest.raises(UserModelError, match="--input-shape"):
            parse_input_shapes([bad])


def test_identity_of_a_function_changes_with_source_name_and_args(tmp_path: Path) -> None:
    from kerasbench.usermodel.identity import function_sha256

    source = tmp_path / "builders.py"
    source.write_text(BUILDERS)
    base = function_sha256(source, "build", {"width": 3})
    assert base == function_sha256(source, "build", {"width": 3})
    assert base != function_sha256(source, "build", {"width": 4})
    assert base != function_sha256(source, "not_a_model", {"width": 3})
    source.write_text(BUILDERS + textwrap.dedent("\n# edited\n"))
    assert base != function_sha256(source, "build", {"width": 3})
