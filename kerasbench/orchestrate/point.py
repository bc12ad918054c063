"""Runs one benchmark point in a fresh worker process and returns its Result.

A worker gets an explicit environment (a whitelist of the caller's variables,
plus KERAS_BACKEND and a private KERAS_HOME), so neither a user's
``~/.keras/keras.json`` nor a stray variable changes what is measured. A worker
runs in its own process group: on a timeout or an interrupt the whole group,
including anything it started, is killed.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kerasbench import backends, feasibility
from kerasbench.envinfo import HostInfo, cpu_times, steal_fraction
from kerasbench.legacy import launch as legacy_launch
from kerasbench.orchestrate import placement, procs
from kerasbench.result import Result
from kerasbench.spec import Spec
from kerasbench.store import now_iso

# Variables a worker inherits from the caller; everything else is dropped.
ENV_NAMES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "TERM", "LD_LIBRARY_PATH"}
    | {"KERASBENCH_DEBUG_FAULTS"}  # test-only fault injection, see kerasbench/worker/faults.py
    | {"KERASBENCH_CACHE", "XDG_CACHE_HOME"}  # where the measured matmul peak is cached
    # The multi-host rendezvous secret (see kerasbench/worker/rendezvous.py).
    | {"KERASBENCH_RENDEZVOUS_SECRET", "KERASBENCH_RENDEZVOUS_SECRET_FILE"}
)
ENV_PREFIXES = (
    "LC_",
    "CUDA_",
    "NVIDIA_",
    "XLA_",
    "JAX_",
    "TF_",
    "TORCH_",
    "OMP_",
    "MKL_",
    "KMP_",
    "OPENBLAS_",
    "NCCL_",
    "SLURM_",
)
STDERR_TAIL_LINES = 20
# Set to 1 to skip the host probe around each point (e.g. a run of many tiny test points).
NO_PROBE_ENV = "KERASBENCH_NO_PROBE"


def worker_env(spec: Spec, keras_home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The complete environment of the worker for ``spec``."""
    base = dict(os.environ if base is None else base)
    env = {k: v for k, v in base.items() if k in ENV_NAMES or k.startswith(ENV_PREFIXES)}
    # The worker must import this kerasbench, whether installed or run from a checkout.
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, base.get("PYTHONPATH")]))
    env["KERAS_BACKEND"] = spec.backend
    info = backends.BACKENDS[spec.backend]
    if info.legacy:
        env.update(legacy_launch.worker_env(spec.backend, base))
    else:  # a native baseline names the framework under it (it imports no Keras)
        env.update(dict(info.worker_env))
    env["KERAS_HOME"] = str(keras_home)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if spec.device_kind == "cpu":
        # Hide accelerators from every framework, so "cpu" means the CPU.
        env["CUDA_VISIBLE_DEVICES"] = ""
        env["JAX_PLATFORMS"] = "cpu"
    return env


def worker_command(
    spec: Spec, spec_path: Path, result_path: Path, python: str | None = None
) -> list[str]:
    """The command line that measures ``spec``: the worker module under ``python``.

    ``python`` is a named environment's interpreter (``spec.env``); None: this one.
    """
    if backends.BACKENDS[spec.backend].legacy:  # Keras 2: its own worker and interpreter
        return legacy_launch.worker_command(spec, spec_path, result_path)
    if placement.uses_torchrun(spec):  # one process per device, started by torchrun
        command = placement.worker_command(spec, spec_path, result_path)
        return [python or command[0], *command[1:]]
    worker = [python or sys.executable, "-m", "kerasbench.worker"]
    return [*worker, str(spec_path), str(result_path)]


@functools.cache
def launcher_versions() -> dict[str, str]:
    """Every distribution this interpreter has and its version (what a point without env ran)."""
    from importlib import metadata

    found = {d.metadata["Name"]: d.version for d in metadata.distributions() if d.metadata["Name"]}
    return dict(sorted(found.items()))


def environment(spec: Spec) -> tuple[str | None, dict[str, str]]:
    """The interpreter and package versions of ``spec.env`` (None, this one's when unnamed)."""
    if not spec.env:
        return None, launcher_versions()
    from kerasbench.envs import named

    record = named.get(spec.env)
    return record.python, {str(k): str(v) for k, v in record.versions.items()}


def probe_figures() -> dict[str, float] | None:
    """The host's speed now (kerasbench.probe), or None where the probe cannot run."""
    if os.environ.get(NO_PROBE_ENV) == "1":
        return None
    from kerasbench import probe

    try:
        return probe.run_probe().to_dict()
    except (OSError, MemoryError, RuntimeError):
        return None


def gpu_count() -> int:
    from kerasbench.envinfo import gpus

    return len(gpus())


def skip_reason(spec: Spec, gpus: int) -> str | None:
    """Why ``spec`` cannot run on this host (the rule book's reason), or None."""
    return feasibility.skip_reason(spec, gpus)


def _tail(path: Path, lines: int = STDERR_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_point(
    spec: Spec,
    host: HostInfo,
    run_id: str | None = None,
    gpus: int = 0,
) -> Result:
    """Measure one point in a fresh worker process and return its Result (never raises
    for the point; EnvError when its named environment is gone).

    The host probe runs just before the worker starts and just after it ends, outside
    its timed windows; ``round_index`` is the point's round (``spec.repeat``).
    """
    spec = spec.resolved()
    python, versions = environment(spec)
    common: dict[str, Any] = {
        "repeat": spec.repeat,
        "hostname": host.hostname,
        "cpu": host.cpu,
        "cpu_count": host.cpu_count,
        "kerasbench_version": host.kerasbench_version,
        "git_commit": host.git_commit,
        "started_at": now_iso(),
        "run_id": run_id,
        "env": spec.env,
        "versions": versions,
        "round_index": spec.repeat,
    }
    reason = skip_reason(spec, gpus)
    if reason:
        return Result.from_spec(spec, "skipped", reason, **common)
    common["probe_before"] = probe_figures()
    with tempfile.TemporaryDirectory(prefix="kerasbench-") as tmp:
        tmpdir = Path(tmp)
        started, cpu_before = time.perf_counter(), cpu_times()
        returncode = _run_worker(spec, python, tmpdir)
        duration = time.perf_counter() - started
        common["cpu_steal_fraction"] = steal_fraction(cpu_before, cpu_times())
        log_tail = _tail(tmpdir / "worker.log")
        if returncode is None:
            return Result.from_spec(
                spec,
                "timeout",
                f"no result within {spec.timeout:g} s; worker killed",
                duration_s=duration,
                stderr_tail=log_tail,
                **common,
            )
        common["probe_after"] = probe_figures()
        raw = _read_result(tmpdir / "result.json")
    if raw is None:
        how = procs.describe_exit(returncode)
        return Result.from_spec(
            spec,
            "failed",
            f"worker {how} without a result",
            duration_s=duration,
            stderr_tail=log_tail,
            **common,
        )
    tail = log_tail if raw.get("status") != "ok" else None
    return Result.from_worker(spec, raw, duration_s=duration, stderr_tail=tail, **common)


def _run_worker(spec: Spec, python: str | None, tmpdir: Path) -> int | None:
    """Run the worker of ``spec`` in ``tmpdir`` to its end; its exit code, None on timeout.

    The worker gets its own process group and a token in its environment, so that
    everything it started, inside its group or not, is killed with it.
    """
    spec_path, result_path = tmpdir / "spec.json", tmpdir / "result.json"
    (tmpdir / "keras_home").mkdir()
    spec_path.write_text(json.dumps({"protocol": 1, "spec": spec.to_dict()}), "utf-8")
    token = procs.new_token()
    env = {**worker_env(spec, tmpdir / "keras_home"), procs.POINT_ENV: token}
    with open(tmpdir / "worker.log", "wb") as log:
        proc = subprocess.Popen(
            worker_command(spec, spec_path, result_path, python),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmpdir,
            start_new_session=True,  # its own process group, killed as a whole
        )
        procs.started(proc.pid, token)
        try:
            return proc.wait(timeout=spec.timeout)
        except subprocess.TimeoutExpired:
            procs.dump_stacks(proc.pid)  # where it hung goes into the stderr tail
            _kill_group(proc)
            return None
        except BaseException:  # Ctrl-C: take the worker down with us
            _kill_group(proc)
            raise
        finally:
            # Anything the worker started and left behind goes with it.
            procs.reap(proc.pid, token)


def _read_result(path: Path) -> dict[str, Any] | None:
    """The worker's raw record as parsed JSON, or None when it wrote none (or garbage)."""
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None
