"""Your own model through ``kerasbench run``: refused at planning time with one line and
exit 2 when it is wrong, run side by side on every backend when it is right.

The planning checks run no Keras; the end-to-end runs save a model under JAX in a
subprocess and run it through the CLI (slow: one worker per backend and mode).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kerasbench import cli
from kerasbench.models import user_label
from kerasbench.orchestrate.plan import Request, plan
from kerasbench.spec import Spec, SpecError
from kerasbench.suite import load_suite
from tests.conftest import report_json

ROOT = Path(__file__).resolve().parent.parent

BUILDERS = """
import keras

def build(width=4, depth=1):
    inputs = keras.Input((6,), name="x")
    x = inputs
    for _ in range(depth):
        x = keras.layers.Dense(width, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    return model


def layers_only():
    return [keras.layers.Dense(3)]


def raises():
    raise RuntimeError("boom")


def dies():
    import os
    os._exit(3)


def any_length(width=4):
    inputs = keras.Input((None, 5), name="steps")
    return keras.Model(inputs, keras.layers.Dense(width)(inputs))
"""

# Saves a compiled model and a model whose Lambda touches a marker file when it runs.
SAVE = """
import sys, keras
from pathlib import Path
out = Path(sys.argv[1])
inputs = keras.Input((6,), name="x")
model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop")
model.save(out / "mine.keras")
touch = eval("lambda t: (__import__('pathlib').Path(%r).touch(), t)[1]" % str(out / "MARKER"))
keras.Model(inputs, keras.layers.Lambda(touch, name="sneaky")(inputs)).save(out / "lambda.keras")
(out / "MARKER").unlink(missing_ok=True)
"""


def _run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["run", *args, "--dry-run"])
    return code, capsys.readouterr().err


def _assert_one_line_exit_2(code: int, err: str, *parts: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kerasbench: error:"), err
    for part in parts:
        assert part in lines[0], lines[0]


def test_bad_model_files_are_refused_at_planning_time(tmp_path: Path, capsys) -> None:
    not_zip = tmp_path / "nz.keras"
    not_zip.write_text("hello")
    other_zip = tmp_path / "oz.keras"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "no model")
    cases = [
        (str(tmp_path / "missing.keras"), "no such file"),
        (str(not_zip), "not a zip file"),
        (str(other_zip), "a zip but not a Keras model"),
    ]
    for path, words in cases:
        code, err = _run_cli(capsys, "--model-path", path)
        _assert_one_line_exit_2(code, err, path, words)


def test_bad_function_references_are_refused_at_planning_time(tmp_path: Path, capsys) -> None:
    (tmp_path / "builders.py").write_text(BUILDERS)
    builders = tmp_path / "builders.py"
    cases = [
        (["--model-path", "no_such_module_h11:build"], "no module"),
        (["--model-path", f"{builders}:nothing"], "has no function 'nothing'"),
        (["--model-path", f"{tmp_path / 'gone.py'}:build"], "no such file"),
        (["--model-path", f"{builders}:build", "--model-args", "colour=red"], "colour"),
        (["--model-path", f"{builders}:build", "--model-args", "oops"], "key=value"),
        (["--model-path", f"{builders}:build", "--input-shapes", "x=0x3"], "positive"),
        (["--model-path", f"{builders}:build", "--optimizer", "lion"], "optimizer"),
    ]
    for args, words in cases:
        code, err = _run_cli(capsys, *args)
        _assert_one_line_exit_2(code, err, words)


def test_what_only_building_tells_is_refused_before_anything_runs(
    tmp_path: Path, kerasbench
) -> None:
    """A function that returns no Model, and an input left unknown without --input-shapes:
    one line and exit 2 from the planning-time build, and no worker, no result."""
    pytest.importorskip("jax")
    (tmp_path / "builders.py").write_text(BUILDERS)
    cases = [
        ("builders.py:layers_only", "returned list, not a keras.Model"),
        ("builders.py:any_length", "input 'steps' has unknown dimensions"),
    ]
    for ref, words in cases:
        proc = kerasbench("run", "--model-path", ref, "--backends", "jax", "--steps", "2")
        _assert_one_line_exit_2(proc.returncode, proc.stderr, ref.split(":")[1], words)
        assert "--input-shapes steps=Nx5" in proc.stderr or "layers_only" in ref
    assert not (tmp_path / ".kerasbench" / "results.db").exists()  # nothing was run


def test_a_builder_that_raises_is_named_and_one_that_dies_is_left_to_the_workers(
    tmp_path: Path,
) -> None:
    from kerasbench.usermodel import UserModelError
    from kerasbench.usermodel.buildcheck import check_builds

    pytest.importorskip("jax")
    (tmp_path / "builders.py").write_text(BUILDERS)
    ref = f"{tmp_path / 'builders.py'}:raises"
    with pytest.raises(UserModelError, match=r"raises: building it failed: RuntimeError: boom$"):
        check_builds(ref)
    note = check_builds(f"{tmp_path / 'builders.py'}:dies")
    assert note is not None and "gave no verdict" in note


@pytest.mark.slow
def test_a_shape_given_on_the_command_line_passes_the_probe_and_runs(
    tmp_path: Path, kerasbench
) -> None:
    pytest.importorskip("jax")
    (tmp_path / "builders.py").write_text(BUILDERS)
    proc = kerasbench(
        "run", "--model-path", "builders.py:any_length", "--input-shapes", "steps=7x5",
        "--backends", "jax", "--modes", "predict", "--steps", "2", "--warmup", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr + proc.stdout
    (r,) = report_json(kerasbench)
    assert r["status"] == "ok" and r["model"] == "user:builders.any_length"
    assert r["input_signature"] == "steps:?x5:float32" and r["params"] == 5 * 4 + 4


def test_a_good_function_plans_under_its_own_name(tmp_path: Path) -> None:
    (tmp_path / "builders.py").write_text(BUILDERS)
    ref = f"{tmp_path / 'builders.py'}:build"
    request = Request(overrides={"model_path": ref, "model_args": "width=8", "backend": ["jax"]})
    (spec,) = plan(request, gpus=0).specs
    assert spec.model == "user:builders.build" == user_label(ref)
    assert spec.mode == "train_on_batch" and spec.optimizer == ""  # the model's own


def test_a_suite_names_models_relative_to_its_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "builders.py").write_text(BUILDERS)
    suite = tmp_path / "mine.toml"
    suite.write_text('[[matrix]]\nmodel_path = "sub/builders.py:build"\nmode = "predict"\n')
    (spec,) = load_suite(str(suite)).expand(default_backends=["jax"])
    assert spec.model_path == f"{tmp_path / 'sub' / 'builders.py'}:build"
    assert spec.model == "user:builders.build"


def test_user_model_fields_are_checked_together() -> None:
    with pytest.raises(SpecError, match="model_path: 'user:x' needs one"):
        Spec(model="user:x", backend="jax")
    with pytest.raises(SpecError, match="model_path: names your own model"):
        Spec(model="mnist_mlp", backend="jax", model_path="m.keras")


def _env() -> dict[str, str]:
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mine.keras`` (compiled, RMSprop) and ``lambda.keras`` saved under JAX."""
    pytest.importorskip("jax")
    out = tmp_path_factory.mktemp("h11models")
    proc = subprocess.run(
        [sys.executable, "-c", SAVE, str(out)], env=_env(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_unsafe_model_is_refused_by_the_cli_and_runs_nothing(saved: Path, kerasbench) -> None:
    marker = saved / "MARKER"
    marker.unlink(missing_ok=True)
    proc = kerasbench("run", "--model-path", str(saved / "lambda.keras"), "--steps", "2")
    assert proc.returncode == 2, proc.stderr
    assert "layer 'sneaky' holds Python bytecode" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not marker.exists()


@pytest.mark.slow
def test_a_saved_model_runs_side_by_side_on_every_backend(saved: Path, kerasbench) -> None:
    backends = "jax,torch,tensorflow,openvino"
    proc = kerasbench(
        "run", "--model-path", str(saved / "mine.keras"), "--backends", backends,
        "--modes", "predict,train_on_batch", "--steps", "2", "--warmup", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr + proc.stdout
    records = report_json(kerasbench)
    by = {(r["backend"], r["mode"]): r for r in records}
    assert "user:mine" in proc.stdout  # one table, the backends side by side
    for backend in ("jax", "torch", "tensorflow"):
        for mode in ("predict", "train_on_batch"):
            r = by[(backend, mode)]
            assert r["status"] == "ok", r["error"]
            assert r["model"] == "user:mine" and r["params"] == 21
            assert r["input_signature"] == "x:6:float32"
            assert len(r["model_sha256"]) == 64
        assert by[(backend, "train_on_batch")]["settings"]["optimizer"].startswith("RMSprop(")
    assert by[("openvino", "predict")]["status"] in ("ok", "skipped")
    assert by[("openvino", "train_on_batch")]["status"] == "skipped"  # inference-only


@pytest.mark.slow
def test_a_python_built_model_runs_with_its_arguments(tmp_path: Path, kerasbench) -> None:
    pytest.importorskip("jax")
    (tmp_path / "builders.py").write_text(BUILDERS)
    proc = kerasbench(
        "run", "--model-path", "builders.py:build", "--model-args", "width=8,depth=2",
        "--backends", "jax", "--modes", "train_on_batch", "--steps", "2", "--warmup", "1",
        "--optimizer", "momentum",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr + proc.stdout
    (r,) = report_json(kerasbench)
    assert r["status"] == "ok" and r["model"] == "user:builders.build"
    assert r["params"] == 6 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3
    assert r["optimizer"] == "momentum"
    assert r["settings"]["optimizer"] == "SGD(learning_rate=0.01, momentum=0.9)"
    assert json.dumps(r["settings"]["model_origin"]).endswith(':build"')


def test_two_models_under_one_name_are_not_compared() -> None:
    from kerasbench.report.verdicts import compare
    from kerasbench.report.view import build_view
    from tests.factories import make_result

    def mine(sha: str, speed: float) -> object:
        raw = {"model_sha256": sha, "params": 21, "input_signature": "x:6:float32"}
        return make_result(speed, model="user:mine", model_path="mine.keras", raw=raw)

    old, new = mine("a" * 64, 100.0), mine("b" * 64, 200.0)
    assert (old.model_sha256, new.params, new.input_signature) == ("a" * 64, 21, "x:6:float32")
    comparison = compare([old], [new])
    assert comparison.points == [] and comparison.only_base == [old]
    view = build_view([old, new])
    assert "sha256" in view.headers and len(view.rows) == 2
