"""The small results store the report tests share: two models, four backends, hostile strings.

No worker runs: results are written with ``Store.save``, so the report tests
take seconds. The store holds two models, four backends, a failed and a skipped
point, two device counts (for the scaling chart), a baseline label (for the
comparison), and hostile strings in labels, hostnames and error messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kerasbench.report import plots
from kerasbench.report.select import Query, select
from kerasbench.result import Result
from kerasbench.store import Store

EVIL_LABEL = "<script>alert(1)</script>"
EVIL_HOST = "host<b>bold</b>&co"
EVIL_ERROR = "<img src=x onerror=alert(2)> went wrong"


def make(model: str, backend: str, speed: float | None, **fields: Any) -> Result:
    """A result of ``batch`` samples per step whose windows give ``speed`` samples/s."""
    batch = fields.pop("batch_size", 32)
    fields.setdefault("per_device_batch_size", batch // fields.get("devices", 1))
    status = fields.pop("status", "ok" if speed is not None else "failed")
    measured: dict[str, Any] = {}
    if speed is not None:
        step = batch / speed
        # eight windows of two steps around the median step time (enough for a 95% CI)
        windows = tuple(2 * step * f for f in (0.98, 1.0, 1.0, 1.03, 0.99, 1.01, 1.0, 1.02))
        measured = dict(
            samples_per_sec=speed,
            samples_per_sec_ci=(speed * 0.97, speed * 1.02),
            step_time_ms=step * 1e3,
            step_time_ci_ms=(step * 1e3 * 0.98, step * 1e3 * 1.03),
            step_time_cv=0.02,
            steps_measured=16,
            window_steps=2,
            n_windows=8,
            window_times_s=windows,
            time_to_first_step_s=2.5 + len(backend) / 10,
            peak_host_memory_bytes=(300 + 10 * len(backend)) * 2**20,
            keras_version="3.15.1",
            backend_version="1.0",
            device_kind="cpu",
        )
    base: dict[str, Any] = dict(
        model=model,
        backend=backend,
        mode="fit",
        dataset="synthetic",
        batch_size=batch,
        devices=1,
        device_kind_requested="auto",
        precision="float32",
        data_format="channels_last",
        jit_compile="auto",
        image_size=32,
        seed=0,
        label=EVIL_LABEL,
        status=status,
        hostname=EVIL_HOST,
        cpu="Test CPU",
        cpu_count=2,
        started_at="2026-11-28T12:00:00+00:00",
        run_id="run1",
    )
    base.update(measured)
    base.update(fields)
    return Result(**base)


CURRENT = [
    make("cifar10_cnn", "jax", 400.0),
    make("cifar10_cnn", "tensorflow", 1000.0),
    make("cifar10_cnn", "torch", None, error=EVIL_ERROR),
    make("cifar10_cnn", "openvino", None, status="skipped", error="inference only"),
    make("cifar10_cnn", "jax", 700.0, devices=2, batch_size=64),
    make("cifar10_cnn", "tensorflow", 1500.0, devices=2, batch_size=64),
    make("mnist_mlp", "jax", 20000.0, mode="predict", batch_size=128),
    make("mnist_mlp", "torch", 15000.0, mode="predict", batch_size=128),
]
# The baseline: tensorflow was faster (a regression now), jax slower (an improvement).
OLD = dict(label="base", run_id="run0", started_at="2026-11-01T09:00:00+00:00")
BASE = [
    make("cifar10_cnn", "jax", 300.0, **OLD),
    make("cifar10_cnn", "tensorflow", 1300.0, **OLD),
    make("cifar10_cnn", "torch", 500.0, **OLD),
    make("mnist_mlp", "jax", 20100.0, mode="predict", batch_size=128, **OLD),
]
HOST = {
    "hostname": EVIL_HOST,
    "os": "Linux-test",
    "cpu": "Test CPU",
    "cpu_count": 2,
    "memory_bytes": 8 * 2**30,
    "gpus": [],
    "python_version": "3.11.2",
    "keras_version": "3.15.1",
    "backend_versions": {"jax": "0.10.2", "tensorflow": None},
    "kerasbench_version": "0.1.0",
    "git_commit": "abc123",
}


def chart_named(results: list[Result], name: str) -> plots.Chart:
    """One chart of a report, by name, as ``build_charts`` draws it from the report view."""
    (chart,) = [c for c in plots.build_charts(results) if c.name == name]
    return chart


def make_store(path: Path) -> Path:
    """A results store at ``path`` holding BASE and CURRENT, with their runs' host records."""
    with Store(path) as store:
        for run_id, label in (("run0", "base"), ("run1", EVIL_LABEL)):
            store._conn.execute(  # fixed run ids, so that results can point at them
                "INSERT INTO runs (run_id, started_at, suite, label, argv, host_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, "2026-11-28T12:00:00+00:00", "quick", label, "[]", json.dumps(HOST)),
            )
            store._conn.commit()
        for r in (*BASE, *CURRENT):
            store.save(r)
    return path


def select_from(store_path: Path, **query: Any):
    with Store(store_path, create=False) as store:
        return select(store, Query(**query))
