"""Isolation: a worker that raises, exits, is killed, segfaults, hangs or leaves children
behind becomes a failed/timeout result with its stderr tail, and leaves no process behind.

Faults are injected with KERASBENCH_DEBUG_FAULTS (kerasbench/worker/faults.py): they
strike before the worker imports a framework, so each point costs well under a second
of an idle core.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from kerasbench import backends
from kerasbench.envinfo import HostInfo, collect
from kerasbench.orchestrate import point, procs
from kerasbench.spec import Spec
from kerasbench.worker import faults


def first_backend() -> str:
    """A Keras 3 training backend that is installed (fault points never import it)."""
    names = backends.installed_backends(training_only=True)
    return names[0] if names else "jax"


@pytest.fixture(scope="module")
def host() -> HostInfo:
    return collect()


def gone(pid: int, within: float = 5.0) -> bool:
    """True when ``pid`` stops running (exits, or is a zombie nobody has reaped yet)
    within ``within`` seconds: SIGKILL is delivered asynchronously."""
    deadline = time.monotonic() + within
    while True:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def run_with_fault(monkeypatch, host: HostInfo, fault: str, timeout: float = 60.0):
    monkeypatch.setenv(faults.ENV_VAR, f"{fault}@7")
    spec = Spec(model="mnist_mlp", backend=first_backend(), seed=7, steps=1, timeout=timeout)
    return point.run_point(spec, host, run_id="t", gpus=0)


def test_fault_setting_is_parsed_strictly() -> None:
    assert faults.parse("kill@3") == {"kill": {3}}
    assert faults.parse("crash@0,2; hang@5;crash@4") == {"crash": {0, 2, 4}, "hang": {5}}
    assert faults.parse("segfault") == {"segfault": None}
    assert faults.fault_for(2, {faults.ENV_VAR: "crash@0,2"}) == "crash"
    assert faults.fault_for(1, {faults.ENV_VAR: "crash@0,2"}) is None
    assert faults.fault_for(1, {}) is None  # unset: never a fault
    for bad in ("explode", "kill@x", "kill@", "kill@1,,2"):
        with pytest.raises(faults.FaultSpecError, match=faults.ENV_VAR):
            faults.parse(bad)


def test_a_point_without_the_setting_is_untouched(monkeypatch, host) -> None:
    monkeypatch.setenv(faults.ENV_VAR, "crash@99")
    assert faults.fault_for(7) is None


@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [
        ("crash", "failed", "RuntimeError: injected fault 'crash'"),
        ("exit3", "failed", "worker exited with code 3 without a result"),
        ("kill", "failed", "killed by signal 9 (SIGKILL: out of memory?"),
        ("segfault", "failed", "killed by signal 11 (SIGSEGV"),
    ],
)
def test_a_failing_worker_becomes_a_failed_result_with_its_stderr(
    monkeypatch, host, fault: str, status: str, error: str
) -> None:
    result = run_with_fault(monkeypatch, host, fault)
    assert result.status == status
    assert error in result.error
    assert f"injecting fault '{fault}'" in result.stderr_tail
    assert result.model == "mnist_mlp" and result.run_id == "t"
    if fault == "segfault":  # faulthandler leaves the Python stack of a native crash
        assert "Segmentation fault" in result.stderr_tail and "faults.py" in result.stderr_tail


def test_a_hung_worker_times_out_with_its_stack_and_is_killed(monkeypatch, host) -> None:
    # The hang fault ignores SIGTERM; only the group SIGKILL ends it.
    result = run_with_fault(monkeypatch, host, "hang", timeout=2.0)
    assert result.status == "timeout"
    assert "no result within 2 s" in result.error
    assert "in inject" in result.stderr_tail  # the SIGUSR1 stack dump shows where it hung
    assert result.duration_s < 2.0 + procs.DUMP_GRACE_S + 10


@pytest.mark.parametrize("fault", ["orphan", "daemon"])
def test_no_process_outlives_its_point(monkeypatch, host, fault: str) -> None:
    # orphan: a child ignoring SIGTERM stays in the worker's process group;
    # daemon: the child leaves the group (setsid) and is found by its point token.
    result = run_with_fault(monkeypatch, host, fault)
    assert result.status == "failed" and "exited with code 4" in result.error
    pid = int(re.search(r"started child pid (\d+)", result.stderr_tail).group(1))
    assert gone(pid), f"child {pid} of the {fault} fault survived its point"
    assert not procs.live_groups()  # the launcher forgot the finished worker


def test_stop_request_kills_a_worker_that_is_just_starting(monkeypatch, host) -> None:
    # A signal between fork and registration must not leave a worker running to the end.
    monkeypatch.setenv(faults.ENV_VAR, "hang@7")
    procs.request_stop(signal.SIGINT)
    try:
        spec = Spec(model="mnist_mlp", backend=first_backend(), seed=7, timeout=60)
        result = point.run_point(spec, host, gpus=0)
    finally:
        procs.clear_stop()
    assert result.status == "failed" and "SIGKILL" in result.error


def test_describe_exit_names_the_signal() -> None:
    assert procs.describe_exit(3) == "exited with code 3"
    assert procs.describe_exit(-signal.SIGTERM) == "killed by signal 15 (SIGTERM)"
    assert procs.describe_exit(-200) == "killed by signal 200"


def test_sweep_kills_only_processes_carrying_the_token() -> None:
    import subprocess
    import sys

    token = procs.new_token()
    code = "import time; time.sleep(60)"
    marked = subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, procs.POINT_ENV: token}
    )
    other = subprocess.Popen([sys.executable, "-c", code])
    try:
        assert procs.sweep(token) == [marked.pid]
        assert marked.wait(timeout=10) == -signal.SIGKILL
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_ignored_signals_stay_ignored() -> None:
    # Under nohup SIGHUP is ignored; a run must not start stopping on it.
    from kerasbench.orchestrate import run as runner

    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    term = signal.getsignal(signal.SIGTERM)
    try:
        with runner.stop_on_signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not term
        assert signal.getsignal(signal.SIGTERM) is term  # restored afterwards
    finally:
        signal.signal(signal.SIGHUP, old)
