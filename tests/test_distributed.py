"""Data-parallel points: several simulated CPU devices and several localhost hosts per backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kerasbench.orchestrate import placement, point
from kerasbench.report import scaling
from kerasbench.result import Result
from kerasbench.spec import Spec, SpecError
from kerasbench.worker.engines.data_parallel import local_rows
from kerasbench.worker.rendezvous import free_port
from kerasbench.worker.torchrun import torchrun_args
from tests.conftest import backend_params, report_json

ROOT = Path(__file__).resolve().parent.parent


# --- placement, validation and commands (no worker) ---------------------------------


def test_global_batch_splits_over_every_device_of_every_host() -> None:
    spec = Spec(
        model="mnist_mlp",
        backend="jax",
        batch_size=64,
        devices=2,
        num_hosts=2,
        host_rank=1,
        coordinator="10.0.0.1:1234",
    )
    assert spec.total_devices == 4 and spec.per_device_batch_size == 16
    with pytest.raises(SpecError, match="batch_size: global batch 66 does not split evenly over 4"):
        Spec(**{**spec.to_dict(), "batch_size": 66})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"num_hosts": 2}, "coordinator: a multi-host point needs HOST:PORT"),
        ({"num_hosts": 2, "coordinator": "nohost"}, "coordinator: expected HOST:PORT"),
        ({"num_hosts": 2, "coordinator": "h:99999"}, "coordinator: expected HOST:PORT"),
        ({"num_hosts": 2, "host_rank": 2, "coordinator": "h:1"}, r"host_rank: 2 is out of range"),
        ({"num_hosts": 0}, "num_hosts: 0 is out of range"),
    ],
)
def test_bad_placement_is_named(fields: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        Spec(model="mnist_mlp", backend="jax", **fields)


def test_local_rows_of_all_processes_make_each_global_batch() -> None:
    x = np.arange(3 * 8 * 2).reshape(3 * 8, 2)  # 3 global batches of 8
    parts = [local_rows(x, 8, p, 4) for p in range(4)]
    assert all(len(p) == 3 * 2 for p in parts)
    for k in range(3):
        rebuilt = np.concatenate([p[k * 2 : (k + 1) * 2] for p in parts])
        assert (rebuilt == x[k * 8 : (k + 1) * 8]).all()


def test_placement_from_torchrun_and_slurm_variables() -> None:
    torchrun = {"MASTER_ADDR": "n0", "MASTER_PORT": "4000", "WORLD_SIZE": "4", "NODE_RANK": "3"}
    assert placement.placement_from_env(torchrun) == {
        "num_hosts": 4,
        "host_rank": 3,
        "coordinator": "n0:4000",
    }
    slurm = {"SLURM_NNODES": "3", "SLURM_NODEID": "1", "SLURM_JOB_NODELIST": "gpu[07-09,12],x1"}
    assert placement.placement_from_env(slurm) == {
        "num_hosts": 3,
        "host_rank": 1,
        "coordinator": f"gpu07:{placement.DEFAULT_PORT}",
    }
    assert placement.placement_from_env({"SLURM_NNODES": "1", "SLURM_NODEID": "0"}) == {}
    assert placement.placement_from_env({"PATH": "/bin"}) == {}
    with pytest.raises(SpecError, match="WORLD_SIZE: expected an integer"):
        placement.placement_from_env({**torchrun, "WORLD_SIZE": "four"})


def test_skip_reasons_for_data_parallel_points() -> None:
    def spec(**fields: object) -> Spec:
        return Spec(**{"model": "mnist_mlp", "backend": "jax", "devices": 2, **fields})

    assert point.skip_reason(spec(device_kind="cpu"), gpus=0) is None
    assert point.skip_reason(spec(), gpus=0) is None  # auto on a CPU host: simulated devices
    assert "needs 2 GPU(s) per host; this host has 1" in point.skip_reason(spec(), gpus=1)
    assert "no data-parallel engine" in str(
        point.skip_reason(spec(backend="openvino", mode="predict"), gpus=0)
    )
    generate = spec(model="hub_llama3_tiny", mode="generate")
    assert "runs on one device here" in str(point.skip_reason(generate, gpus=0))
    assert "not dataset=cifar10" in str(
        point.skip_reason(spec(model="cifar10_cnn", dataset="cifar10", data_path="d"), gpus=0)
    )
    tf_hosts = spec(backend="tensorflow", num_hosts=2, coordinator="h:1", device_kind="cpu")
    assert "one CPU device per worker" in str(point.skip_reason(tf_hosts, gpus=0))


def test_torch_points_start_through_torchrun() -> None:
    single = Spec(model="mnist_mlp", backend="torch", devices=2)
    command = point.worker_command(single, Path("s.json"), Path("r.json"))
    assert command[1:3] == ["-m", "kerasbench.worker.torchrun"]
    assert point.worker_command(Spec(model="mnist_mlp", backend="jax", devices=2), *[Path()] * 2)[
        1:3
    ] == ["-m", "kerasbench.worker"]
    assert "--standalone" in torchrun_args(single, "s", "r")
    hosts = Spec(
        model="mnist_mlp",
        backend="torch",
        devices=2,
        num_hosts=2,
        host_rank=1,
        coordinator="n0:4000",
        timeout=60,
    )
    args = torchrun_args(hosts, "s", "r")
    for expected in ("--nnodes=2", "--node-rank=1", "--master-addr=n0", "--master-port=4000"):
        assert expected in args
    assert any(a.startswith("--rdzv-conf=timeout=") for a in args) and "--nproc-per-node=2" in args


def test_a_torchrun_host_whose_agent_lingers_ends_once_its_result_is_written(tmp_path) -> None:
    # torchrun's agent can wait 300 s in its exit barrier for another host's agent;
    # the host's result is whole by then, so the wrapper ends after a grace period.
    result = tmp_path / "result.json"
    program = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from kerasbench.worker import torchrun\n"
        "torchrun._end_when_result_lingers(Path(sys.argv[1]), grace_s=0.2)\n"
        "Path(sys.argv[1]).write_text('{}')\n"
        "time.sleep(60)\n"
        "sys.exit(3)\n"
    )
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", program, str(result)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and time.monotonic() - started < 30
    assert "still waiting for other hosts to sign off" in proc.stderr


def test_free_ports_lie_below_the_range_the_os_gives_outgoing_connections() -> None:
    # A client retrying to reach a port in that range can connect to itself.
    from kerasbench.worker import rendezvous

    low, _ = rendezvous._ephemeral_range()
    assert all(10_000 <= rendezvous.free_port() < low for _ in range(5))


# --- real workers: simulated CPU devices ---------------------------------------------

DEVICES_SUITE = """
[defaults]
device_kind = "cpu"
steps = 2
warmup = 1
window_steps = 1
timeout = 300

[[matrix]]
# No dropout: one and two devices must give the same losses from the same weights.
model = "mlp_nodropout"
mode = "train_on_batch"
batch_size = 32
devices = [1, 2]

[[matrix]]
model = "mnist_mlp"
mode = "fit"
batch_size = 64
devices = 2
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", backend_params())
def test_two_cpu_devices_train_with_the_losses_of_one(kerasbench, tmp_path, backend) -> None:
    (tmp_path / "suite.toml").write_text(DEVICES_SUITE)
    proc = kerasbench("run", "--suite", "suite.toml", "--backends", backend, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {(r["model"], r["devices"]): r for r in report_json(kerasbench)}
    for row in rows.values():
        assert row["status"] == "ok", row["error"]
    one, two = rows[("mlp_nodropout", 1)], rows[("mlp_nodropout", 2)]
    assert two["batch_size"] == 32 and two["per_device_batch_size"] == 16
    assert two["settings"]["processes"] == (2 if backend == "torch" else 1)
    assert len(one["losses"]) == len(two["losses"]) == 4  # first step, warm-up, 2 timed
    np.testing.assert_allclose(two["losses"], one["losses"], rtol=1e-5)
    mlp = rows[("mnist_mlp", 2)]
    assert mlp["per_device_batch_size"] == 32 and mlp["samples_per_sec"] > 0
    assert mlp["settings"]["distribution"]
    report = kerasbench("report", "--scaling", "--format", "markdown")
    assert report.returncode == 0, report.stderr
    assert "| mlp_nodropout | train_on_batch | 32 global | 2 | 1 | " in report.stdout


# --- real workers: two hosts on localhost --------------------------------------------


def _host(tmp_path: Path, rank: int, args: list[str]) -> subprocess.Popen[str]:
    """One `kerasbench run` as host ``rank``, in a directory (and store) of its own."""
    cwd = tmp_path / f"host{rank}"
    cwd.mkdir()
    # Every host of a run shares the secret that authenticates the meeting.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    env.update(KERASBENCH_RENDEZVOUS_SECRET="test-run-secret")
    env.pop("KERASBENCH_RESULTS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "kerasbench", "run", "--host-rank", str(rank), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _records(tmp_path: Path, rank: int) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "kerasbench", "report", "--format", "json"],
        cwd=tmp_path / f"host{rank}",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(proc.stdout) if proc.returncode == 0 else []


def _diagnosis(tmp_path: Path, outputs: list[str]) -> str:
    """What each host printed, and the error and log tail its store kept (stacks on a timeout)."""
    parts = []
    for rank, output in enumerate(outputs):
        parts.append(f"--- host {rank} printed:\n{output}")
        for row in _records(tmp_path, rank):
            parts.append(f"--- host {rank} stored: {row['error']}\n{row.get('stderr_tail') or ''}")
    return "\n".join(parts)


def _point(backend: str, num_hosts: int, timeout: float) -> list[str]:
    return [
        *("--backends", backend, "--models", "mlp_nodropout", "--modes", "train_on_batch"),
        *("--batch-size", "32", "--steps", "2", "--warmup", "1", "--window-steps", "1"),
        *("--device-kind", "cpu", "--num-hosts", str(num_hosts)),
        *("--coordinator", f"127.0.0.1:{free_port()}", "--timeout", str(timeout)),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("backend", backend_params())
def test_two_hosts_on_localhost(tmp_path, backend) -> None:
    args = _point(backend, 2, timeout=300)
    hosts = [_host(tmp_path, rank, args) for rank in (0, 1)]
    outputs = [h.communicate(timeout=600)[0] for h in hosts]
    assert [h.returncode for h in hosts] == [0, 0], _diagnosis(tmp_path, outputs)
    (row,) = _records(tmp_path, 0)
    assert row["status"] == "ok" and row["num_hosts"] == 2 and row["devices"] == 1
    assert row["batch_size"] == 32 and row["per_device_batch_size"] == 16
    timings = row["settings"]["process_window_times_s"]
    assert len(timings) == 2 and all(len(t) == 2 for t in timings)  # every host's windows
    assert len(row["losses"]) == 4
    # Host 1 keeps its own view: the same point, its own windows only.
    (other,) = _records(tmp_path, 1)
    assert other["status"] == "ok" and other["settings"]["host_rank"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("backend", backend_params())
def test_host_that_never_joins_fails_the_point_in_time(tmp_path, backend) -> None:
    timeout = 20
    started = time.monotonic()
    host0 = _host(tmp_path, 0, _point(backend, 2, timeout=timeout))
    output = host0.communicate(timeout=timeout + 120)[0]
    assert host0.returncode == 1, output
    (row,) = _records(tmp_path, 0)
    assert row["status"] == "failed", row
    assert "join" in row["error"] or "Timed out" in row["error"], row["error"]
    # The join deadline (60% of the point's timeout) ended it, not the launcher's kill.
    assert row["duration_s"] < timeout
    assert time.monotonic() - started < timeout + 60


# --- the scaling report (no worker) -------------------------------------------------


def _result(backend: str, devices: int, batch: int, speed: float | None, hosts: int = 1) -> Result:
    return Result(
        model="resnet50",
        backend=backend,
        mode="fit",
        dataset="synthetic",
        batch_size=batch,
        per_device_batch_size=batch // (devices * hosts),
        devices=devices,
        num_hosts=hosts,
        device_kind_requested="gpu",
        precision="float32",
        data_format="channels_last",
        jit_compile="auto",
        image_size=224,
        seed=0,
        label="",
        status="ok" if speed else "failed",
        error=None if speed else "boom",
        samples_per_sec=speed,
    )


def test_scaling_rows_give_speedup_and_efficiency_per_backend() -> None:
    # The seed's shape: per-device batch 32 on 1, 4 and 8 devices (8 = 2 hosts x 4).
    results = [
        _result("jax", 1, 32, 229.0),
        _result("jax", 4, 128, 870.2),
        _result("jax", 4, 256, 1648.8, hosts=2),
        _result("torch", 1, 32, 200.0),
        _result("torch", 4, 128, None),
    ]
    table = scaling.scaling_table(results)
    assert table.backends == ["jax", "torch"]
    assert [(r.batch, r.devices, r.hosts) for r in table.rows] == [
        ("32/device", 1, 1),
        ("32/device", 4, 1),
        ("32/device", 4, 2),
    ]
    eight = table.rows[2].cells["jax"]
    assert eight.speedup == pytest.approx(1648.8 / 229.0)
    assert eight.efficiency == pytest.approx(1648.8 / (8 * 229.0))  # 0.90
    assert table.rows[1].cells["torch"].text() == "failed"
    assert table.rows[0].cells["torch"].efficiency == pytest.approx(1.0)
    markdown = scaling.scaling_markdown(table)
    assert "| resnet50 | fit | 32/device | 4 | 2 | 1,648.8  x7.20  90% |  |" in markdown
    records = scaling.scaling_records(table)
    assert {r["total_devices"] for r in records} == {1, 4, 8}


def test_scaling_with_the_global_batch_fixed_and_nothing_to_scale() -> None:
    table = scaling.scaling_table([_result("jax", 1, 64, 100.0), _result("jax", 2, 64, 150.0)])
    (one, two) = table.rows
    assert one.batch == two.batch == "64 global"
    assert two.cells["jax"].efficiency == pytest.approx(0.75)
    assert scaling.scaling_table([_result("jax", 1, 64, 100.0)]).rows == []


def test_report_scaling_from_the_command_line(kerasbench, tmp_path) -> None:
    from kerasbench.store import Store

    with Store(tmp_path / "results.db") as store:
        for devices, speed in ((1, 229.0), (4, 870.2), (8, 1648.8)):
            store.save(_result("jax", devices, 32 * devices, speed))
    proc = kerasbench("report", "--results", "results.db", "--scaling")
    assert proc.returncode == 0, proc.stderr
    assert "1,648.8  x7.20  90%" in proc.stdout and "Scaling" in proc.stdout
    bad = kerasbench("report", "--results", "results.db", "--scaling", "--format", "csv")
    assert bad.returncode == 2 and "--scaling prints table, markdown or json" in bad.stderr
