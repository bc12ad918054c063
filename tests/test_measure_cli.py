"""End to end on mnist_mlp with JAX: target-CI stopping, repeats, FLOPs, MFU, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import needs_backend, report_json

pytestmark = needs_backend("jax")


def test_target_ci_fit_and_predict(kerasbench, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERASBENCH_CACHE", str(tmp_path / "cache"))
    proc = kerasbench(
        "run", "--models", "mnist_mlp", "--modes", "fit,predict", "--backends", "jax",
        "--target-ci", "0.5", "--max-time", "3", "--window-steps", "2", "--min-windows", "3",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = report_json(kerasbench)
    assert {r["mode"] for r in records} == {"fit", "predict"}
    for r in records:
        assert r["status"] == "ok", r["error"]
        assert r["stop_reason"] in ("target_ci", "max_time")
        assert r["n_windows"] >= 3 and r["target_ci"] == 0.5
        assert r["forward_flops_per_sample"] == 2 * (784 * 512 + 512 * 512 + 512 * 10)
        factor = 1 if r["mode"] == "predict" else 3
        assert r["flops_per_step"] == factor * r["forward_flops_per_sample"] * 128
        assert r["peak_tflops"] > 0 and r["mfu"] == pytest.approx(
            r["achieved_tflops"] / r["peak_tflops"]
        )
        assert r["settings"]["tf32"] is False
        assert r["settings"]["jax_default_matmul_precision"] == "float32"
        assert r["first_window_step_ms"] > 0
    assert (tmp_path / "cache" / "peak_flops.json").exists()


def test_repeats_are_separate_processes_pooled_in_the_report(kerasbench) -> None:
    proc = kerasbench(
        "run", "--models", "mnist_mlp", "--modes", "train_on_batch", "--backends", "jax",
        "--steps", "6", "--window-steps", "2", "--warmup", "1", "--repeats", "2",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "2 processes; spread between processes" in proc.stdout
    records = report_json(kerasbench)
    assert sorted(r["repeat"] for r in records) == [0, 1]
    assert all(r["stop_reason"] == "steps" and r["n_windows"] == 3 for r in records)
