"""Whole runs through the CLI under faults: a SIGKILLed worker, SIGINT/SIGTERM and resume,
two concurrent `kerasbench run` processes on one store, a backend that finds no GPU."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kerasbench import backends
from kerasbench.envinfo import collect, gpus
from kerasbench.orchestrate import point
from kerasbench.spec import Spec
from kerasbench.store import Store
from kerasbench.worker import faults

ROOT = Path(__file__).resolve().parent.parent
TRAINING = backends.installed_backends(training_only=True)
BACKEND = TRAINING[0] if TRAINING else "jax"
needs_a_backend = pytest.mark.skipif(not TRAINING, reason="no Keras 3 training backend installed")


def write_suite(path: Path, seeds: int, timeout: float = 300) -> Path:
    """A suite of ``seeds`` tiny mnist_mlp predict points on one backend (seeds 0..n-1)."""
    path.write_text(
        f"""
[defaults]
model = "mnist_mlp"
backend = "{BACKEND}"
mode = "predict"
batch_size = 32
steps = 2
warmup = 0
window_steps = 1
timeout = {timeout}
seed = {list(range(seeds))}
"""
    )
    return path


def start_cli(tmp_path: Path, *args: str, fault: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != faults.ENV_VAR}
    env.update(PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path), COLUMNS="200")
    if fault:
        env[faults.ENV_VAR] = fault
    return subprocess.Popen(
        [sys.executable, "-m", "kerasbench", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell starts background jobs with SIGINT ignored, and kerasbench keeps an ignored
        # signal ignored (as nohup expects); the CLI under test gets the default instead.
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def saved_count(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM results").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def workers_under(folder: Path) -> list[int]:
    """Processes whose command line mentions ``folder`` (workers' temp dirs live there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if str(folder).encode() in cmdline and b"kerasbench.worker" in cmdline:
                if state not in ("Z", "X"):
                    found.append(int(entry.name))
    return found


def hanging(folder: Path) -> bool:
    """Whether a worker under ``folder`` is running and has begun its injected hang."""
    for log in folder.glob("kerasbench-*/worker.log"):
        try:
            if b"injecting fault 'hang'" in log.read_bytes():
                return bool(workers_under(folder))
        except OSError:  # the point ended and its folder went away
            continue
    return False


def communicate_or_show_stacks(proc: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """proc.communicate(); if it does not end in time, fail with the CLI's thread stacks."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)  # the CLI's faulthandler prints every thread's stack
        time.sleep(2)
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"kerasbench did not exit within {timeout} s; its stacks:\n{err[-6000:]}")


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@needs_a_backend
@pytest.mark.slow
def test_sigkilled_worker_costs_one_point_of_four(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "four.toml", 4)
    db = tmp_path / "r.db"
    proc = start_cli(tmp_path, "run", "--suite", str(suite), "--results", str(db), fault="kill@2")
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 1, err  # a point failed; the suite went on
    with Store(db) as store:
        results = store.results(latest=False)
        assert [r.seed for r in results] == [0, 1, 2, 3]
        killed = results[2]
        assert killed.status == "failed" and "SIGKILL" in killed.error
        assert "injecting fault 'kill'" in killed.stderr_tail
        others = [r for r in results if r.seed != 2]
        assert [r.status for r in others] == ["ok"] * 3, [r.error for r in others]
        assert all(r.samples_per_sec > 0 and r.n_windows == 2 for r in others)
        assert store.runs()[0].status == "done"
    assert not workers_under(tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_the_run_keeps_results_and_resume_finishes_it(tmp_path: Path, sig) -> None:
    suite = write_suite(tmp_path / "three.toml", 3)
    db = tmp_path / "r.db"
    # Point 0 fails fast (a result), point 1 hangs until the signal, point 2 waits.
    proc = start_cli(
        tmp_path, "run", "--suite", str(suite), "--results", str(db), fault="crash@0;hang@1"
    )
    wait_for(lambda: saved_count(db) == 1, 120, "the first result")
    wait_for(lambda: hanging(tmp_path), 60, "the hanging worker")
    proc.send_signal(sig)
    out, err = communicate_or_show_stacks(proc, 60)
    assert proc.returncode == 128 + sig, err
    assert f"interrupted ({signal.Signals(sig).name})" in err
    assert "Traceback" not in err
    with Store(db) as store:
        (run,) = store.runs()
        assert run.status == "interrupted" and run.planned == 3
        (first,) = store.results(latest=False)
        assert first.seed == 0 and first.status == "failed"
    hint = f"kerasbench run --resume {run.run_id} --results {db}"
    assert hint in err
    wait_for(lambda: not workers_under(tmp_path), 10, "no worker left")

    # Resume by the printed command (the suite file is not needed any more).
    suite.unlink()
    resume = start_cli(tmp_path, *hint.split()[1:], fault="crash@1,2")
    out, err = resume.communicate(timeout=120)
    assert resume.returncode == 1, err  # the resumed points fail on purpose
    assert "resuming run" in out and "2 of 3 points to go" in out
    with Store(db) as store:
        results = store.results(run_id=run.run_id, latest=False)
        assert [r.seed for r in results] == [0, 1, 2]  # point 0 was not run again
        assert store.runs()[0].status == "done"
    again = start_cli(tmp_path, "run", "--resume", "--results", str(db))
    _, err = again.communicate(timeout=60)
    assert again.returncode == 2 and "no interrupted run to resume" in err


def test_two_cli_runs_share_one_store(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "four.toml", 4)
    db = tmp_path / "shared.db"
    runs = [
        start_cli(
            tmp_path,
            *("run", "--suite", str(suite), "--results", str(db), "--label", label),
            fault="crash",  # every point fails fast: this test is about the store
        )
        for label in ("a", "b")
    ]
    for proc in runs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 1, err
    with Store(db) as store:
        results = store.results(latest=False)
        assert sorted((r.label, r.seed) for r in results) == [
            (label, seed) for label in ("a", "b") for seed in range(4)
        ]
        assert [r.status for r in store.runs()] == ["done", "done"]


def test_resume_refuses_planning_flags(tmp_path: Path, capsys) -> None:
    from kerasbench import cli

    assert cli.main(["run", "--resume", "--steps", "3", "--results", str(tmp_path / "r")]) == 2
    assert "--resume runs the stored plan" in capsys.readouterr().err
    assert cli.main(["run", "--resume", "nosuchrun", "--results", str(tmp_path / "r")]) == 2
    assert "no results store here" in capsys.readouterr().err


def test_malformed_fault_setting_is_bad_input(tmp_path: Path, monkeypatch, capsys) -> None:
    from kerasbench import cli

    monkeypatch.setenv(faults.ENV_VAR, "explode@1")
    suite = write_suite(tmp_path / "one.toml", 1)
    assert cli.main(["run", "--suite", str(suite), "--results", str(tmp_path / "r.db")]) == 2
    assert "unknown fault 'explode'" in capsys.readouterr().err
    assert not (tmp_path / "r.db").exists()


@needs_a_backend
@pytest.mark.skipif(bool(gpus()), reason="this host has a GPU")
def test_backend_that_finds_no_gpu_fails_with_the_reason(monkeypatch) -> None:
    # The launcher believes a GPU exists (gpus=1), the backend finds none: a failed
    # point that says so, not a CPU measurement filed as a GPU one.
    monkeypatch.delenv(faults.ENV_VAR, raising=False)
    spec = Spec(model="mnist_mlp", backend=BACKEND, device_kind="gpu", mode="predict", steps=1)
    result = point.run_point(spec, collect(), gpus=1)
    assert result.status == "failed"
    assert f"backend {BACKEND} found no GPU" in result.error


def test_gpu_point_is_skipped_on_a_host_without_gpus() -> None:
    spec = Spec(model="mnist_mlp", backend=BACKEND, device_kind="gpu")
    reason = point.skip_reason(spec, gpus=0)
    assert reason and ("GPU" in reason or "not installed" in reason)
    assert json.dumps(reason)  # a plain string, stored as the result's error
