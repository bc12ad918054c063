"""Worker isolation (environment) and skip reasons, without starting workers."""

from __future__ import annotations

from pathlib import Path

from kerasbench import backends
from kerasbench.envinfo import collect
from kerasbench.orchestrate import point
from kerasbench.spec import Spec


def test_worker_env_is_a_whitelist_with_a_private_keras_home(tmp_path: Path) -> None:
    base = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "KERAS_BACKEND": "torch",
        "KERAS_HOME": "/home/u/.keras",
        "AWS_SECRET_ACCESS_KEY": "x",
        "XLA_FLAGS": "--xla_cpu_something",
        "PYTHONPATH": "/elsewhere",
    }
    spec = Spec(model="mnist_mlp", backend="jax")
    env = point.worker_env(spec, tmp_path / "kh", base)
    assert env["KERAS_BACKEND"] == "jax"
    assert env["KERAS_HOME"] == str(tmp_path / "kh")
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert env["XLA_FLAGS"] == "--xla_cpu_something"
    assert env["PYTHONPATH"].endswith("/elsewhere")


def test_device_kind_cpu_hides_accelerators(tmp_path: Path) -> None:
    spec = Spec(model="mnist_mlp", backend="jax", device_kind="cpu")
    env = point.worker_env(spec, tmp_path, {"CUDA_VISIBLE_DEVICES": "0,1"})
    assert env["CUDA_VISIBLE_DEVICES"] == "" and env["JAX_PLATFORMS"] == "cpu"


def test_missing_backend_is_skipped_with_the_install_hint(monkeypatch) -> None:
    monkeypatch.setattr(backends, "package_version", lambda dist: None)
    result = point.run_point(Spec(model="mnist_mlp", backend="torch"), collect())
    assert result.status == "skipped"
    assert "pip install 'kerasbench[torch]'" in result.error


def test_inference_only_backend_skips_training(monkeypatch) -> None:
    monkeypatch.setattr(backends, "missing_packages", lambda name: [])
    spec = Spec(model="mnist_mlp", backend="openvino", mode="fit")
    assert "inference-only" in point.skip_reason(spec, gpus=0)
    assert point.skip_reason(Spec(model="mnist_mlp", backend="openvino", mode="predict"), 0) is None


def test_gpu_points_skip_without_gpus(monkeypatch) -> None:
    monkeypatch.setattr(backends, "missing_packages", lambda name: [])
    spec = Spec(model="resnet50", backend="jax", device_kind="gpu", devices=4, batch_size=128)
    assert point.skip_reason(spec, gpus=1) == "needs 4 GPU(s); this host has 1"
