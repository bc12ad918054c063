"""Shared test helpers: backend availability and a CLI runner on a private store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kerasbench import backends
from kerasbench.worker.rendezvous import free_port

KERAS3_BACKENDS = ("jax", "tensorflow", "torch")


def needs_backend(name: str) -> pytest.MarkDecorator:
    """Skip unless the Keras backend ``name`` is installed, saying what is missing."""
    missing = backends.missing_packages(name)
    return pytest.mark.skipif(
        bool(missing), reason=f"backend {name} not installed (missing {', '.join(missing)})"
    )


def backend_params(names: tuple[str, ...] = KERAS3_BACKENDS) -> list[object]:
    """pytest params over backends, each skipped with a reason when not installed."""
    return [pytest.param(n, marks=needs_backend(n), id=n) for n in names]


@pytest.fixture(scope="session", autouse=True)
def private_peak_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the tests' matmul peaks out of the user's cache.

    Tests run many workers side by side, so a peak measured during them is low
    and, cached in ~/.cache/kerasbench, would inflate the MFU of the user's later runs.
    """
    os.environ["KERASBENCH_CACHE"] = str(tmp_path_factory.mktemp("peak_cache"))


@pytest.fixture
def results_db(tmp_path: Path) -> Path:
    return tmp_path / "results.db"


HIDE_BACKENDS = """
from importlib import metadata
_version = metadata.version
_hidden = {"jax", "jaxlib", "tensorflow", "tensorflow-cpu", "torch", "openvino"}


def version(name):
    if name.lower() in _hidden:
        raise metadata.PackageNotFoundError(name)
    return _version(name)


metadata.version = version
"""


@pytest.fixture
def kerasbench(tmp_path: Path):
    """Run the kerasbench CLI in a subprocess in ``tmp_path``; returns CompletedProcess."""

    def run(
        *args: str,
        timeout: float = 900,
        env_home: str | None = None,
        env_no_backends: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env.pop("KERASBENCH_RESULTS", None)
        if env_home:
            env["HOME"] = env_home
        if env_no_backends:
            # A sitecustomize that hides every framework's metadata from the CLI process.
            hide = tmp_path / "hide_backends"
            hide.mkdir(exist_ok=True)
            (hide / "sitecustomize.py").write_text(HIDE_BACKENDS)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hide), env.get("PYTHONPATH")]))
        env["COLUMNS"] = "200"
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        return subprocess.run(
            [sys.executable, "-m", "kerasbench", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def report_json(kerasbench, *args: str) -> list[dict]:
    """The records of ``kerasbench report --format json`` (asserting it succeeded)."""
    proc = kerasbench("report", "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --- a real PostgreSQL server for the PostgreSQL store's tests -----------------------


def _pg_bindir() -> Path | None:
    """Where initdb and pg_ctl are: ``pg_config --bindir``, else the newest Debian install."""
    import glob
    import shutil

    found = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        found.append(Path(out.stdout.strip()))
    found += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    return next((d for d in found if (d / "initdb").exists() and (d / "pg_ctl").exists()), None)


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server started for this session (trust auth on 127.0.0.1); its base URL.

    initdb refuses to run as root, so as root the cluster belongs to user ``postgres``.
    Skips (with the reason) where no server binary is installed.
    """
    import shlex
    import shutil
    import tempfile

    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl); apt-get install postgresql")
    pytest.importorskip("psycopg")
    as_root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="kerasbench-pg-"))
    data, port = folder / "data", free_port()

    def as_owner(cmd: list[str]) -> subprocess.CompletedProcess[str]:
        if as_root:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    if as_root:
        shutil.chown(folder, "postgres", "postgres")
    init = as_owner([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
    assert init.returncode == 0, init.stderr
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    log = folder / "server.log"
    start = as_owner(
        [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"]
    )
    assert start.returncode == 0, start.stderr + start.stdout
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str, request: pytest.FixtureRequest) -> str:
    """The URL of a new, empty database on the session's server (one per test)."""
    import re
    import uuid

    import psycopg

    name = re.sub(r"\W", "_", request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:8]
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_server}/{name}"


def run_worker(spec: Any, folder: Path) -> Any:
    """One point through the worker process (``python -m kerasbench.worker``), as a Result."""
    from kerasbench.result import Result

    spec_path, result_path = folder / "spec.json", folder / "result.json"
    spec_path.write_text(json.dumps({"spec": spec.to_dict()}), encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, KERAS_BACKEND=spec.backend, PYTHONPATH=str(root))
    proc = subprocess.run(
        [sys.executable, "-m", "kerasbench.worker", str(spec_path), str(result_path)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result_path.exists(), proc.stderr[-2000:]
    return Result.from_worker(spec, json.loads(result_path.read_text(encoding="utf-8")))
