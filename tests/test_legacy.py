"""The legacy rows: keras-mxnet (own Python 3.7-3.9 environment) and tf-keras (Keras 2 on TF).

The mxnet tests need a Python 3.7-3.9: they reuse the environment recorded in
the kerasbench home ($KERASBENCH_HOME or ~/.local/share/kerasbench) when there
is one, else set one up once per session in a temporary folder (about a
minute, with network), else skip saying why.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kerasbench import backends, feasibility
from kerasbench.legacy import envs
from kerasbench.legacy import launch as legacy_launch
from kerasbench.legacy import worker as legacy_worker
from kerasbench.legacy.worker import MODELS as WORKER_MODELS
from kerasbench.orchestrate import point
from kerasbench.result import Result
from kerasbench.spec import Spec
from kerasbench.worker import protocol
from tests.conftest import needs_backend, report_json

# The legacy worker and the modules beside it that it imports (all Python 3.7 code).
WORKER_FILES = [
    legacy_launch.WORKER,
    *sorted(legacy_launch.WORKER.parent.glob("keras2_*.py")),
]
# The keys of a raw measurement: the protocol dataclass's fields.
RAW_KEYS = set(protocol.FIELDS)


def test_worker_files_are_under_450_lines_and_all_found() -> None:
    names = {p.stem for p in WORKER_FILES}
    assert names == {"worker", "keras2_env", "keras2_models", "keras2_timing"}
    for path in WORKER_FILES:
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 450, path


@pytest.mark.parametrize("path", WORKER_FILES, ids=lambda p: p.name)
def test_worker_parses_as_python_37(path: Path) -> None:
    ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 7))


def test_worker_compiles_under_python_37_to_39(tmp_path: Path) -> None:
    try:
        python = envs.find_interpreter(envs.MXNET)
    except envs.EnvError as exc:
        pytest.skip(str(exc))
    proc = subprocess.run(
        [python.executable, "-m", "py_compile", *map(str, WORKER_FILES)],
        capture_output=True,
        text=True,
        env={"PYTHONPYCACHEPREFIX": str(tmp_path)},  # leave no .pyc in the source tree
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("path", WORKER_FILES, ids=lambda p: p.name)
def test_worker_imports_nothing_of_kerasbench(path: Path) -> None:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    assert "kerasbench" not in modules


def test_worker_record_keys_are_the_protocol_fields() -> None:
    assert set(legacy_worker.RECORD_KEYS) == RAW_KEYS
    assert len(legacy_worker.RECORD_KEYS) == len(RAW_KEYS)
    assert legacy_worker.PROTOCOL == protocol.PROTOCOL
    failed = legacy_worker.failure(ValueError("boom"))
    assert protocol.RawMeasurement.from_json(failed).error == "ValueError: boom"


def test_worker_runs_as_an_isolated_script(tmp_path: Path) -> None:
    """As the launcher starts it (``python -I worker.py``): it finds its sibling modules
    and answers a point it cannot run with a protocol record, without importing Keras."""
    spec_path, result_path = tmp_path / "spec.json", tmp_path / "result.json"
    spec = {"backend": "tf-keras", "model": "no_such_model", "mode": "fit"}
    spec_path.write_text(json.dumps({"protocol": 1, "spec": spec}), "utf-8")
    proc = subprocess.run(
        [sys.executable, "-I", str(legacy_launch.WORKER), str(spec_path), str(result_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    raw = json.loads(result_path.read_text("utf-8"))
    assert set(raw) == RAW_KEYS
    record = protocol.RawMeasurement.from_json(raw)
    assert record.status == "failed" and "no_such_model" in record.error


def test_legacy_backends_run_only_when_named() -> None:
    assert backends.BACKENDS["tf-keras"].legacy and backends.BACKENDS["mxnet"].legacy
    assert not {"tf-keras", "mxnet"} & set(backends.installed_backends())
    if backends.is_installed("tf-keras"):
        assert "tf-keras" in backends.installed_backends(legacy=True)


# ----------------------------------------------------------------------------- environments


def test_explicit_python_of_the_wrong_version_is_refused() -> None:
    with pytest.raises(envs.EnvError, match=r"mxnet needs Python 3\.7-3\.9"):
        envs.find_interpreter(envs.MXNET, sys.executable)


def test_missing_interpreter_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(envs, "candidates", lambda versions: [])
    with pytest.raises(envs.EnvError) as info:
        envs.find_interpreter(envs.MXNET)
    message = str(info.value)
    assert "no Python 3.7-3.9 found" in message
    assert "pyenv install 3.7" in message and "kerasbench setup mxnet --python" in message


def test_setup_with_a_wrong_python_exits_2(kerasbench, tmp_path: Path) -> None:
    proc = kerasbench("setup", "mxnet", "--python", sys.executable)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "needs Python 3.7-3.9" in proc.stderr


def test_registry_records_and_forgets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERASBENCH_HOME", str(tmp_path))
    assert envs.registry_path() == tmp_path / "envs.json"
    assert backends.missing_packages("mxnet") == ["its Python 3.7-3.9 environment"]
    record = envs.EnvRecord(
        backend="mxnet",
        path=str(tmp_path / "envs" / "mxnet"),
        python=sys.executable,  # any existing file stands in for the interpreter
        python_version="3.7.16",
        requirements=list(envs.MXNET.requirements),
        versions={"mxnet": "1.9.1", "keras": "2.2.4.3", "numpy": "1.21.6"},
        created_at="2026-01-01T00:00:00+00:00",
    )
    envs.save_record(record)
    assert envs.recorded("mxnet") == record
    assert backends.missing_packages("mxnet") == []
    assert backends.backend_version("mxnet") == "1.9.1"
    assert backends.keras_version("mxnet") == "2.2.4.3"
    spec = Spec(model="mnist_mlp", backend="mxnet").resolved()
    command = point.worker_command(spec, Path("s.json"), Path("r.json"))
    assert command == [sys.executable, "-I", str(legacy_launch.WORKER), "s.json", "r.json"]
    env = point.worker_env(spec, tmp_path, base={"PATH": "/bin", "MXNET_ENGINE_TYPE": "Naive"})
    assert env["KERAS_BACKEND"] == "mxnet" and env["MXNET_ENGINE_TYPE"] == "Naive"
    # A record whose interpreter is gone, or a file that is not a record, counts as none.
    envs.save_record(envs.EnvRecord(**{**record.__dict__, "python": str(tmp_path / "gone")}))
    assert envs.recorded("mxnet") is None
    envs.registry_path().write_text("not json", encoding="utf-8")
    assert envs.load_registry() == {}


def test_cuda_build_is_pinned_to_the_same_version() -> None:
    assert envs.requirements(envs.MXNET, "112")[0] == "mxnet-cu112==1.9.1"
    with pytest.raises(envs.EnvError, match="--cuda"):
        envs.requirements(envs.MXNET, "11.2")


def test_skip_reasons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERASBENCH_HOME", str(tmp_path))  # nothing set up there
    reason = point.skip_reason(Spec(model="mnist_mlp", backend="mxnet"), gpus=0)
    assert reason and "kerasbench setup mxnet" in reason
    monkeypatch.setattr(backends, "missing_packages", lambda name: [])
    mixed = Spec(model="mnist_mlp", backend="mxnet", precision="mixed_float16")
    assert "float32 only" in (point.skip_reason(mixed, gpus=0) or "")
    multi = Spec(model="mnist_mlp", backend="mxnet", devices=2, batch_size=64)
    assert "multi_gpu_model needs 2 GPUs" in (point.skip_reason(multi, gpus=0) or "")
    assert point.skip_reason(Spec(model="mnist_mlp", backend="tf-keras"), gpus=0) is None
    native = Spec(model="mnist_mlp", backend="tf-keras", input="native")
    assert "in-memory arrays only" in (point.skip_reason(native, gpus=0) or "")


def test_tf_keras_worker_env() -> None:
    spec = Spec(model="mnist_mlp", backend="tf-keras")
    env = point.worker_env(spec, Path("/tmp/kh"), base={"PATH": "/bin"})
    assert env["TF_USE_LEGACY_KERAS"] == "1" and env["KERAS_BACKEND"] == "tensorflow"
    assert point.worker_command(spec, Path("s"), Path("r"))[:3] == [
        sys.executable,
        "-I",
        str(legacy_launch.WORKER),
    ]


# ----------------------------------------------------------------------------- real workers


@pytest.fixture(scope="session")
def mxnet_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, envs.EnvRecord]:
    """(kerasbench home, record) of a working mxnet environment: reused, or made once."""
    root = envs.home()
    record = envs.recorded("mxnet", root)
    if record is None:
        root = tmp_path_factory.mktemp("kerasbench-home")
        try:
            record = envs.setup("mxnet", root=root, log=lambda line: None)
        except envs.InstallError as exc:
            pytest.skip(f"cannot install keras-mxnet here: {exc}")
        except envs.EnvError as exc:
            pytest.skip(str(exc))
    return root, record


def _legacy_params() -> list[object]:
    return [
        pytest.param("tf-keras", marks=needs_backend("tf-keras"), id="tf-keras"),
        pytest.param("mxnet", id="mxnet"),
    ]


def _python_for(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "mxnet":
        return request.getfixturevalue("mxnet_env")[1].python
    return sys.executable


@pytest.mark.slow
@pytest.mark.parametrize("backend", _legacy_params())
def test_worker_measures_each_model_and_mode(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """mnist_mlp and cifar10_cnn in every mode, in one worker process (several spec pairs)."""
    python = _python_for(backend, request)
    data_format = "channels_first" if backend == "mxnet" else "channels_last"
    specs = [
        Spec(
            model=model,
            backend=backend,
            mode=mode,
            batch_size=8,
            steps=2,
            warmup=1,
            window_steps=1,
            data_format=data_format,
        ).resolved()
        for model in ("mnist_mlp", "cifar10_cnn")
        for mode in ("fit", "train_on_batch", "predict")
    ]
    argv = []
    for i, spec in enumerate(specs):
        spec_path = tmp_path / f"spec{i}.json"
        spec_path.write_text(json.dumps({"protocol": 1, "spec": spec.to_dict()}), "utf-8")
        argv += [str(spec_path), str(tmp_path / f"result{i}.json")]
    env = point.worker_env(specs[0], tmp_path / "keras_home")
    proc = subprocess.run(
        [python, "-I", str(legacy_launch.WORKER), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    keras_json = json.loads((tmp_path / "keras_home" / "keras.json").read_text("utf-8"))
    assert keras_json["backend"] == ("mxnet" if backend == "mxnet" else "tensorflow")
    assert keras_json["image_data_format"] == data_format
    for i, spec in enumerate(specs):
        raw = json.loads((tmp_path / f"result{i}.json").read_text("utf-8"))
        assert set(raw) == RAW_KEYS, spec
        assert raw["status"] == "ok", raw["error"]
        assert len(raw["window_times_s"]) == 2 and min(raw["window_times_s"]) > 0
        assert raw["first_step_s"] > 0 and raw["time_to_first_step_s"] >= raw["first_step_s"]
        assert raw["keras_version"].startswith("2.")
        assert raw["settings"]["image_data_format"] == data_format
        assert raw["settings"]["keras_json"] == keras_json
        assert raw["device_kind"] == "cpu"
        # Only the first point of a process owns the process-wide memory peak.
        assert (raw["peak_host_memory_bytes"] is not None) == (i == 0)
        result = Result.from_worker(spec, raw)
        assert result.status == "ok" and result.samples_per_sec and result.samples_per_sec > 0
    if backend == "mxnet":
        assert raw["python_version"].startswith(("3.7", "3.8", "3.9"))
        assert raw["settings"]["mxnet_context"] == "cpu"


@pytest.mark.slow
def test_cli_runs_legacy_points_beside_keras3(
    request: pytest.FixtureRequest, kerasbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One `kerasbench run` over jax, tf-keras and mxnet (those available): one table."""
    named = [b for b in ("jax", "tf-keras") if backends.is_installed(b)]
    try:
        monkeypatch.setenv("KERASBENCH_HOME", str(request.getfixturevalue("mxnet_env")[0]))
        named.append("mxnet")
    except pytest.skip.Exception:
        pass  # the mxnet environment cannot be made here: the other rows still run
    if not set(named) & {"tf-keras", "mxnet"}:
        pytest.skip("neither tf-keras nor an mxnet environment is available")
    proc = kerasbench(
        "run",
        *("--backends", ",".join(named), "--models", "mnist_mlp", "--modes", "train_on_batch"),
        *("--batch-size", "16", "--steps", "2", "--warmup", "1", "--window-steps", "1"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = {r["backend"]: r for r in report_json(kerasbench)}
    assert set(records) == set(named)
    for name in set(named) - {"jax"}:
        assert records[name]["status"] == "ok" and records[name]["samples_per_sec"] > 0
        assert records[name]["keras_version"].startswith("2.")
        assert records[name]["settings"]["legacy_worker"]
    markdown = kerasbench("report", "--format", "markdown").stdout
    header, rows = markdown.splitlines()[0], markdown.splitlines()[2:3]
    assert all(f" {name} " in header for name in named) and len(rows) == 1  # side by side


def test_legacy_worker_models_are_in_the_registry() -> None:
    from kerasbench.models import MODELS

    # Every Keras 3 model the legacy worker does not have is skipped, never crashed.
    for name in MODELS:
        spec = Spec(model=name, backend="tf-keras")
        reason = feasibility.skip_reason(spec, gpus=0)
        if name not in WORKER_MODELS and backends.is_installed("tf-keras"):
            assert reason and "no Keras 2 version" in reason
