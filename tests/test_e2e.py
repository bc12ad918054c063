"""End to end through the CLI: one tiny run per backend in every mode, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import backend_params, needs_backend, report_json

REQUIRED_FIELDS = {
    "model",
    "backend",
    "mode",
    "dataset",
    "batch_size",
    "devices",
    "precision",
    "data_format",
    "status",
    "error",
    "samples_per_sec",
    "step_time_ms",
    "steps_measured",
    "warmup_steps",
    "time_to_first_step_s",
    "peak_host_memory_bytes",
    "keras_version",
    "backend_version",
    "python_version",
    "hostname",
    "cpu",
    "started_at",
    "label",
}
TINY = ("--models", "mnist_mlp", "--batch-size", "16", "--steps", "2", "--warmup", "0")


@pytest.mark.parametrize("backend", backend_params())
def test_one_step_per_mode(kerasbench, tmp_path: Path, backend: str) -> None:
    # A user's keras.json naming another backend and format must not leak into workers.
    keras_dir = tmp_path / "home" / ".keras"
    keras_dir.mkdir(parents=True)
    other = "torch" if backend != "torch" else "jax"
    (keras_dir / "keras.json").write_text(
        json.dumps({"backend": other, "image_data_format": "channels_first"})
    )
    proc = kerasbench(
        "run",
        *TINY,
        "--backends",
        backend,
        "--modes",
        "fit,train_on_batch,predict",
        "--label",
        "e2e",
        "--window-steps",
        "1",
        env_home=str(tmp_path / "home"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "samples/s" in proc.stdout and backend in proc.stdout
    records = report_json(kerasbench, "--label", "e2e")
    assert {r["mode"] for r in records} == {"fit", "train_on_batch", "predict"}
    for r in records:
        assert REQUIRED_FIELDS <= set(r)
        assert r["status"] == "ok", r["error"]
        assert r["backend"] == backend and r["batch_size"] == 16
        assert r["steps_measured"] == 2 and r["n_windows"] == 2
        assert r["samples_per_sec"] > 0 and r["time_to_first_step_s"] > 0
        assert r["settings"]["image_data_format"] == "channels_last"
        assert r["peak_host_memory_bytes"] > 50 * 2**20
        if Path("/proc/stat").exists():  # Linux: the VM's steal time while the worker ran
            assert 0 <= r["cpu_steal_fraction"] < 1


@needs_backend("openvino")
def test_openvino_runs_inference(kerasbench) -> None:
    proc = kerasbench("run", *TINY, "--backends", "openvino", "--modes", "predict")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (record,) = report_json(kerasbench)
    assert record["status"] == "ok" and record["samples_per_sec"] > 0


def test_missing_backend_is_skipped_not_failed(kerasbench, monkeypatch) -> None:
    # An empty path for metadata makes every backend look uninstalled to the CLI process.
    proc = kerasbench("run", *TINY, "--backends", "jax", "--modes", "fit", env_no_backends=True)
    assert proc.returncode == 0, proc.stderr
    (record,) = report_json(kerasbench)
    assert record["status"] == "skipped"
    assert "pip install 'kerasbench[jax]'" in record["error"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("--models", "resnet5"), "unknown value 'resnet5'; valid: resnet50"),
        (("--backends", "mxnett"), "unknown value 'mxnett'; valid: jax"),
        (("--modes", "train"), "unknown value 'train'; valid: fit, train_on_batch, predict"),
        (("--suite", "quik"), "unknown suite 'quik'; valid:"),
        (("--steps", "-3"), "steps: -3 is out of range"),
    ],
)
def test_unknown_names_exit_2_and_run_nothing(kerasbench, tmp_path: Path, args, message) -> None:
    proc = kerasbench("run", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / ".kerasbench").exists()


def test_list_and_env(kerasbench) -> None:
    models = kerasbench("list", "models")
    assert models.returncode == 0 and "resnet50" in models.stdout
    suites = kerasbench("list", "suites")
    assert "quick" in suites.stdout and "8_gpu_config" in suites.stdout
    listed = kerasbench("list", "backends")
    assert "pip install 'kerasbench[torch]'" in listed.stdout
    env = kerasbench("env")
    assert env.returncode == 0 and "python" in env.stdout and "cpu" in env.stdout
