"""Serving wired end to end: spec fields and rules, the serving engine, the CLI's runtime axis."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import needs_backend, report_json, run_worker
from factories import make_spec

from kerasbench import feasibility, serving, spec_serving
from kerasbench.feasibility import Host, check
from kerasbench.result import Result
from kerasbench.spec import Spec, SpecError
from kerasbench.worker import protocol

SMALL = {"min_requests": 20, "warmup": 1, "duration": 0.2, "serving_max_time": 10.0}


def test_runtimes_of_the_spec_are_the_serving_packages() -> None:
    assert spec_serving.RUNTIMES == serving.RUNTIMES


def test_serving_modes_default_to_batch_1_and_one_request_per_window() -> None:
    spec = make_spec(mode="latency")
    assert spec.batch_size == 1 and spec.window_steps == 1
    assert make_spec(mode="server", qps=10.0, batch_size=4).batch_size == 4
    assert make_spec(mode="predict").batch_size == 128  # the model's default, unchanged


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"runtime": "tflite"}, "runtime: unknown value 'tflite'"),
        ({"qps": -1.0}, "qps: -1.0 is out of range"),
        ({"max_batch": 0}, "max_batch: expected an integer in [1, 4096]"),
        ({"duration": 0.0}, "duration: 0.0 is out of range (0"),
    ],
)
def test_bad_serving_fields_are_named(fields: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("(", r"\(")):
        Spec(model="mnist_mlp", backend="jax", mode="server", **fields)


def test_rules_for_serving_points(monkeypatch: pytest.MonkeyPatch) -> None:
    host = Host(0)
    monkeypatch.setattr(feasibility.backends, "missing_packages", lambda b: [])
    verdict = check(make_spec(mode="predict", runtime="onnx"), host)
    assert verdict.rule == "runtime-needs-serving"
    verdict = check(make_spec(mode="server"), host)
    assert verdict.rule == "serving-point" and "--qps" in verdict.reason
    verdict = check(make_spec(mode="server", find_peak=True), host)
    assert verdict.rule == "serving-point" and "--p99-bound-ms" in verdict.reason
    verdict = check(make_spec(mode="latency", devices=2, device_kind="cpu", batch_size=2), host)
    assert verdict.rule == "data-parallel-engine"
    assert check(make_spec(mode="latency", backend="openvino"), host).runnable  # inference-only
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    verdict = check(make_spec(mode="latency", runtime="openvino"), host)
    assert verdict.rule == "runtime-installed" and "pip install openvino" in verdict.reason


def test_a_skip_inside_the_worker_is_a_skipped_record() -> None:
    record = protocol.failure(protocol.PointSkipped("onnx: no exporter for this backend"))
    assert record.status == "skipped" and "no exporter for this backend" in record.error


def _run(tmp_path: Path, **fields) -> Result:
    """One point through the worker process (``python -m kerasbench.worker``) on jax."""
    return run_worker(make_spec(model="mnist_mlp", backend="jax", **{**SMALL, **fields}), tmp_path)


@needs_backend("jax")
def test_latency_scenario_through_the_worker(tmp_path: Path) -> None:
    r = _run(tmp_path, mode="latency")
    assert r.status == "ok" and r.runtime == "keras" and r.throughput_unit == "requests/s"
    assert r.n_requests >= 20 and len(r.window_times_s) == r.n_requests
    assert r.p50_ms <= r.p90_ms <= r.p99_ms <= r.max_latency_ms
    assert r.p99_ci_ms[0] <= r.p99_ms <= r.p99_ci_ms[1]
    assert r.samples_per_sec == pytest.approx(1e3 / r.p50_ms, rel=0.05)  # 1 / median latency
    assert "jax.jit" in r.runtime_variant and r.max_rel_error == 0.0
    assert r.floor_p50_ms > 0 and r.floor_max_qps > 0
    assert r.settings["serving_floor_source"].startswith(("measured", "cache"))


@needs_backend("jax")
def test_server_scenario_through_the_worker(tmp_path: Path) -> None:
    r = _run(tmp_path, mode="server", qps=200.0, p99_bound_ms=1000.0)
    assert r.status == "ok" and r.mode == "server"
    assert r.samples_per_sec == r.achieved_qps > 0 and r.samples_per_sec_ci is None
    assert r.n_dropped == 0 and r.n_late == 0 and r.n_requests >= 20
    assert "200.0" in r.point_key and "keras" in r.point_key


@needs_backend("jax")
def test_find_peak_through_the_worker(tmp_path: Path) -> None:
    r = _run(tmp_path, mode="server", find_peak=True, p99_bound_ms=50.0, serving_max_time=2.0)
    assert r.status == "ok" and r.peak_qps is not None and r.peak_qps > 0
    assert r.samples_per_sec == r.peak_qps
    trials = r.settings["serving_peak_trials"]
    assert trials and all(t["ok"] == (t["p99_ms"] <= 50.0) or not t["ok"] for t in trials)


@needs_backend("jax")
def test_an_export_the_backend_cannot_make_is_skipped_with_the_reason(tmp_path: Path) -> None:
    r = _run(tmp_path, mode="latency", runtime="torch_export")  # jax cannot export to torch
    assert r.status == "skipped" and "torch_export" in r.error and r.p99_ms is None


@needs_backend("tensorflow")
@pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None, reason="onnxruntime is not installed"
)
def test_runtime_axis_through_the_cli(kerasbench) -> None:
    proc = kerasbench(
        "run", "--models", "mnist_mlp", "--backends", "tensorflow,jax", "--modes", "latency",
        "--runtime", "onnx,keras", "--min-requests", "20", "--warmup", "1",
        "--serving-max-time", "10",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "latency per request" in proc.stdout  # the latency table
    records = {(r["backend"], r["runtime"]): r for r in report_json(kerasbench)}
    assert set(records) == {(b, rt) for b in ("tensorflow", "jax") for rt in ("onnx", "keras")}
    onnx = records["tensorflow", "onnx"]
    if onnx["status"] == "ok":
        assert onnx["export_s"] > 0 and onnx["artifact_bytes"] > 0 and onnx["p99_ms"] > 0
        assert "onnxruntime" in onnx["runtime_variant"].lower()
    else:  # the exporter's own reason, never a silent gap
        assert onnx["status"] == "skipped" and "onnx" in onnx["error"]
    assert records["jax", "onnx"]["status"] == "skipped" and records["jax", "onnx"]["error"]
    assert records["jax", "keras"]["status"] == "ok"
