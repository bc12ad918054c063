"""benchmarks/gpu_check: its checks on fabricated records, and its CPU mode end to end once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import needs_backend
from tests.factories import make_result

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from gpu_check import checks, runner, table  # noqa: E402
from gpu_check.checks import FAIL, NA_CPU, OK  # noqa: E402

TF32_OFF = {
    "jax": {"jax_default_matmul_precision": "float32"},
    "torch": {"torch_allow_tf32": {"matmul": False, "cudnn": False}},
}
TF32_ON = {
    "jax": {"jax_default_matmul_precision": "tensorfloat32"},
    "torch": {"torch_allow_tf32": {"matmul": True, "cudnn": True}},
}
HOST = {
    "hostname": "gpuhost",
    "cpu": "AMD EPYC 9654",
    "cpu_count": 16,
    "kerasbench_version": "0.1.0",
    "started_at": "2026-12-01T00:00:00Z",
    "duration_s": 60.0,
    "cpu_steal_fraction": 0.0,
    "run_id": "run1",
}


def record(
    backend: str = "jax",
    *,
    gpu: bool = True,
    speed: float = 2000.0,
    peak: float | None = 100.0,
    tf32: bool = False,
    raw: dict[str, Any] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """A ResNet50 record as a GPU (or CPU) run fills it: 8 windows, every field measured.

    At 2000 samples/s and 8.2 GFLOP forward per sample, a 100 TFLOP/s peak gives MFU 49%.
    """
    settings = {
        "tf32": tf32,
        **(TF32_ON if tf32 else TF32_OFF)[backend],
        "peak_source": "measured",
        "distinct_batches": 4,
    }
    body = {
        "device_kind": "gpu" if gpu else "cpu",
        "device_name": "NVIDIA H200" if gpu else HOST["cpu"],
        "peak_device_memory_bytes": 5 * 2**30 if gpu else None,
        "peak_host_memory_bytes": 2**31,
        "keras_version": "3.15.1",
        "backend_version": "0.10.2",
        "python_version": "3.11.7",
        "first_step_s": 20.0,
        "forward_flops_per_sample": 8.2e9,
        "peak_tflops": peak,
        "settings": settings,
        **(raw or {}),
    }
    spec = {"model": "resnet50", "mode": "fit", "batch_size": 64, "precision": "float32"}
    fields = {**spec, **HOST, **kw}
    kind = "gpu" if gpu else "cpu"
    return make_result(speed, n=8, backend=backend, device_kind=kind, raw=body, **fields).to_dict()


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_a_complete_gpu_record_passes_every_check(backend: str) -> None:
    rec = record(backend)
    rows = [
        checks.check_point(rec, gpu=True),
        *checks.check_device([rec], "gpu"),
        *checks.check_fields([rec], gpu=True),
        *checks.check_tf32_default([rec]),
    ]
    assert [r.verdict for r in rows] == [OK] * 4, [r.detail for r in rows]
    assert "MFU 49.2%" in rows[0].figure and "mem 5.00 GiB" in rows[0].figure
    assert rows[1].figure == "gpu: NVIDIA H200"


def test_a_missing_allocator_peak_fails_on_gpu_and_is_listed_on_cpu() -> None:
    rec = record(raw={"peak_device_memory_bytes": None})
    assert checks.check_point(rec, gpu=True).verdict == FAIL
    [fields] = checks.check_fields([rec], gpu=True)
    assert fields.verdict == FAIL and "peak_device_memory_bytes" in fields.detail
    cpu = record(gpu=False)
    assert checks.check_point(cpu, gpu=False).verdict == OK
    filled, gpu_only = checks.check_fields([cpu], gpu=False)
    assert filled.verdict == OK
    assert gpu_only.verdict == NA_CPU and "peak_device_memory_bytes" in gpu_only.figure


def test_fields_check_names_each_gap_and_error_settings() -> None:
    rec = record(
        peak=None, cpu_steal_fraction=None, raw={"settings": {"tf32": False, "peak_error": "OOM"}}
    )
    assert set(checks.missing_fields(rec, gpu=True)) >= {
        "cpu_steal_fraction",
        "settings.peak_error",
        "peak_tflops",
        "mfu",
    }


def test_mfu_must_lie_below_one_on_a_gpu() -> None:
    too_high = record(peak=10.0)  # 49 TFLOP/s achieved against a 10 TFLOP/s peak
    row = checks.check_point(too_high, gpu=True)
    assert row.verdict == FAIL and "not between 0 and 100%" in row.detail
    row = checks.check_point(record(gpu=False, peak=10.0), gpu=False)
    assert row.verdict == OK and "gated on GPUs only" in row.detail
    no_peak = record(peak=None, raw={"settings": {"tf32": False, "peak_error": "boom"}})
    row = checks.check_point(no_peak, gpu=True)
    assert row.verdict == FAIL and "boom" in row.detail


def test_a_failed_point_fails_with_its_error() -> None:
    rec = make_result(status="failed", raw={"error": "Traceback\nRuntimeError: CUDA OOM"})
    row = checks.check_point(rec.to_dict(), gpu=True)
    assert row.verdict == FAIL and row.detail == "failed: RuntimeError: CUDA OOM"


def test_device_check_fails_on_cpu_records_in_a_gpu_run() -> None:
    on_cpu = record(raw={"device_kind": "cpu", "device_name": HOST["cpu"]})
    [row] = checks.check_device([on_cpu], "gpu")
    assert row.verdict == FAIL and "device_kind='cpu'" in row.detail
    named_after_cpu = record(raw={"device_name": HOST["cpu"]})
    assert checks.check_device([named_after_cpu], "gpu")[0].verdict == FAIL
    assert checks.check_device([record(gpu=False)], "cpu")[0].verdict == OK


def test_sync_agrees_within_two_percent_on_gpu_only() -> None:
    close = [(1010.0, 1000.0), (995.0, 1000.0)]  # ABBA rounds: ratios 1.010 and 0.995
    row = checks.check_sync("jax", "mixed_bfloat16", close, gpu=True)
    assert row.verdict == OK and row.values["ratio"] == pytest.approx(1.0025)
    unsynchronised = [(1500.0, 1000.0), (1400.0, 1000.0)]
    row = checks.check_sync("jax", "mixed_bfloat16", unsynchronised, gpu=True)
    assert row.verdict == FAIL and "45.0% > 2%" in row.detail
    assert checks.check_sync("jax", "float32", unsynchronised, gpu=False).verdict == NA_CPU
    assert checks.check_sync("jax", "float32", [], gpu=True).verdict == FAIL
    row = checks.check_sync("torch", "float32", close, gpu=True, reference="completion clock")
    assert row.name == "sync: window edges vs completion clock" and row.verdict == OK


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_tf32_off_by_default_on_with_the_flag(backend: str) -> None:
    assert checks.check_tf32_default([record(backend)])[0].verdict == OK
    asked_on = record(backend, tf32=True)
    assert checks.check_tf32_default([asked_on])[0].verdict == FAIL
    inconsistent = record(backend, raw={"settings": {"tf32": False, **TF32_ON[backend]}})
    assert checks.check_tf32_default([inconsistent])[0].verdict == FAIL
    probe = record(backend, tf32=True, peak=300.0)
    recorded, gain = checks.check_tf32_on(probe, fp32_peak=60.0, gpu=True)
    assert (recorded.verdict, gain.verdict) == (OK, OK) and "5.00x" in gain.figure
    _, flat = checks.check_tf32_on(record(backend, tf32=True, peak=61.0), 60.0, gpu=True)
    assert flat.verdict == FAIL
    _, on_cpu = checks.check_tf32_on(record(backend, tf32=True, peak=61.0), 60.0, gpu=False)
    assert on_cpu.verdict == NA_CPU
    unrecorded, _ = checks.check_tf32_on(record(backend), 60.0, gpu=True)
    assert unrecorded.verdict == FAIL


def test_data_parallel_keeps_the_per_device_batch_and_scales() -> None:
    one = record()
    two = record(speed=3800.0, devices=2, batch_size=128)
    row = checks.check_data_parallel(one, two, 2, gpu=True)
    assert row.verdict == OK and row.values["speedup"] == pytest.approx(1.9, rel=0.02)
    slower = record(speed=1500.0, devices=2, batch_size=128)
    assert checks.check_data_parallel(one, slower, 2, gpu=True).verdict == FAIL
    assert checks.check_data_parallel(one, slower, 2, gpu=False).verdict == OK
    doubled_per_device = record(speed=3800.0, devices=2, batch_size=256)
    row = checks.check_data_parallel(one, doubled_per_device, 2, gpu=True)
    assert row.verdict == FAIL and "per-device batch 128 != 64" in row.detail


def test_table_summary_and_files(tmp_path: Path) -> None:
    rows = [checks.check_point(record(), gpu=True), checks.check_point(record(peak=1.0), True)]
    text = table.text(rows)
    assert text.splitlines()[0].split() == ["check", "backend", "precision", "figure", "verdict"]
    assert "FAIL resnet50 fit [jax]: MFU" in text
    summary = table.summary(rows, [("table", 12.0)], 13.0)
    assert summary.startswith("2 checks: 1 ok, 1 FAIL.") and "FAILED: resnet50 fit" in summary
    json_path, md_path = table.write(tmp_path, rows, {"wall_s": 13.0})
    data = json.loads(json_path.read_text())
    assert [c["verdict"] for c in data["checks"]] == [OK, FAIL]
    assert md_path.read_text().startswith("| check | backend |")


def test_suite_file_has_scalars_as_defaults_and_lists_as_axes() -> None:
    suite = {"model": "resnet50", "mode": ["fit", "train_on_batch"], "precision": ["float32"]}
    parsed = tomllib.loads(runner.suite_toml("table", suite))
    assert parsed["defaults"] == {"model": "resnet50"}
    assert parsed["matrix"] == [{"mode": ["fit", "train_on_batch"], "precision": ["float32"]}]


def test_gpu_count_follows_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,3")
    assert runner.gpu_count() == 2
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert runner.gpu_count() == 0


@pytest.mark.slow
@needs_backend("jax")
def test_cpu_mode_end_to_end(tmp_path: Path) -> None:
    """The whole script on mnist_mlp, JAX, float32: no check fails, GPU-only ones say n/a."""
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check"), "--device-kind", "cpu",
         "--backends", "jax", "--precisions", "float32", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = json.loads((out / "checks.json").read_text())["checks"]
    verdicts = {(r["name"], r["backend"]): r["verdict"] for r in rows}
    assert verdicts[("device is cpu, named", "jax")] == OK
    assert verdicts[("mnist_mlp fit", "jax")] == OK
    assert verdicts[("mnist_mlp train_on_batch", "jax")] == OK
    assert verdicts[("tf32 on with --tf32", "jax")] == OK
    assert verdicts[("record fields filled", "jax")] == OK
    for name in (
        "tf32 raises matmul peak",
        "sync: window edges vs every step",
        "sync: window edges vs completion clock",
        "GPU-only fields",
    ):
        assert verdicts[(name, "jax")] == NA_CPU
    assert "No check failed." in proc.stdout and (out / "checks.md").exists()
