"""Shared test helpers: backend availability and a CLI runner on a private store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kerasbench import backends

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
