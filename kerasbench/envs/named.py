"""Named environments: venvs with chosen package versions that benchmark points can run in.

``kerasbench env create NAME --pip 'keras==3.10.0' 'jax==0.6.*'`` makes
``<home>/envs/NAME`` (``<home>`` as for the legacy environments: ``$KERASBENCH_HOME``,
...), installs the given specs there with pip, makes this kerasbench importable in it
and records the exact version of every installed distribution in ``<home>/envs.json``,
beside the legacy environments (one registry, one folder of environments; the legacy
names are reserved).

What a worker in the environment needs: ``python -m kerasbench.worker`` must import this
kerasbench and numpy (the worker's one import beyond the standard library), and the
Keras + backend versions under test. kerasbench is not pip-installed there: a
``kerasbench-checkout.pth`` file in the environment's site-packages puts this package's
root on its path, as ``launch.worker_env`` does with PYTHONPATH, so the environment
runs the same harness code as the launcher (no wheel build, no network for it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

import kerasbench
from kerasbench.legacy import envs as legacy

EnvError = legacy.EnvError
EnvRecord = legacy.EnvRecord
KIND = "named"
MIN_PYTHON = (3, 10)  # what kerasbench itself needs
PTH_NAME = "kerasbench-checkout.pth"
WORKER_REQUIREMENTS = ("numpy",)
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Every installed distribution and its version, as pip freeze would list them.
VERSIONS_CODE = (
    "import json, importlib.metadata as m\n"
    "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()"
    " if d.metadata['Name']}))"
)


@dataclass(frozen=True)
class Index:
    """Where pip finds packages: the default index, another URL, or local folders only."""

    index_url: str | None = None
    find_links: tuple[str, ...] = ()
    no_index: bool = False

    def pip_args(self) -> list[str]:
        args = ["--no-index"] if self.no_index else []
        if self.index_url:
            args += ["--index-url", self.index_url]
        for link in self.find_links:
            args += ["--find-links", link]
        return args


def package_root() -> Path:
    """The folder holding this kerasbench package (a checkout or site-packages)."""
    return Path(kerasbench.__file__).resolve().parent.parent


def check_name(name: str) -> str:
    """``name`` if it can name an environment (a plain folder name, not a legacy one)."""
    if not NAME.fullmatch(name) or name in (".", ".."):
        raise EnvError(
            f"environment name {name!r}: use letters, digits, '.', '_' and '-' (at most 64)"
        )
    if name in legacy.RECIPES:
        raise EnvError(f"environment name {name!r} is reserved for `kerasbench setup {name}`")
    return name


def _requirements(pip_specs: Sequence[str], worker_deps: bool) -> list[str]:
    names = set()
    for spec in pip_specs:
        try:
            names.add(Requirement(spec).name.lower())
        except InvalidRequirement as exc:
            raise EnvError(f"--pip {spec!r}: not a requirement ({exc})") from None
    extra = [r for r in WORKER_REQUIREMENTS if worker_deps and r not in names]
    return [*pip_specs, *extra]


def run_checked(cmd: list[str], what: str, timeout: float = legacy.PIP_TIMEOUT_S) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise EnvError(f"{what}: did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise EnvError(f"{what}: {exc}") from None
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-8:])
        raise EnvError(f"{what} failed:\n{tail}")
    return out.stdout


def _interpreter(python: str | None) -> legacy.Interpreter:
    found = legacy.probe(python or sys.executable)
    if found is None:
        raise EnvError(f"--python {python}: it does not run")
    if found.version[:2] < MIN_PYTHON:
        raise EnvError(f"--python {python}: Python {found.short}; kerasbench needs 3.10 or newer")
    return found


def installed_versions(python: str) -> dict[str, str]:
    """Every distribution installed for ``python`` and its exact version."""
    out = run_checked([python, "-I", "-c", VERSIONS_CODE], "listing the installed packages", 120)
    return dict(sorted(json.loads(out.strip().splitlines()[-1]).items(), key=lambda kv: kv[0]))


def _link_kerasbench(python: str) -> None:
    """Put this kerasbench on the environment's path with a .pth file (see the module doc)."""
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(run_checked([python, "-I", "-c", code], "finding site-packages", 60).strip())
    (site / PTH_NAME).write_text(f"{package_root()}\n", encoding="utf-8")


def create(
    name: str,
    pip_specs: Sequence[str],
    python: str | None = None,
    index: Index | None = None,
    root: Path | None = None,
    worker_deps: bool = True,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> EnvRecord:
    """Make (or reuse) the environment ``name`` with ``pip_specs`` and record it.

    An environment already recorded with the same requirements is reused unless
    ``force``; with other requirements it is an error unless ``force``.
    ``worker_deps`` adds numpy (the worker's import) unless a spec names it.
    """
    check_name(name)
    if not pip_specs:
        raise EnvError(f"environment {name}: give the packages to install (--pip SPEC ...)")
    root = root or legacy.home()
    reqs = _requirements(pip_specs, worker_deps)
    path = root / "envs" / name
    existing = legacy.load_registry(root).get(name)
    if existing is not None and existing.usable() and not force:
        if existing.requirements == reqs and python is None:
            log(f"{name}: already made at {existing.path}")
            return existing
        raise EnvError(
            f"environment {name} exists (Python {existing.python_version}, "
            f"{' '.join(existing.requirements)}); pass --force to remake it"
        )
    if path.is_symlink() or (path.exists() and not force and existing is None):
        raise EnvError(f"{path} exists and is not a recorded environment; remove it first")
    interpreter = _interpreter(python)
    log(f"{name}: creating {path} with Python {interpreter.short}")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        run_checked(
            [interpreter.executable, "-m", "venv", "--clear", str(path)], "making the venv", 300
        )
        py = str(legacy.env_python(path))
        log(f"{name}: installing {' '.join(reqs)}")
        pip = [py, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
        run_checked([*pip, *(index or Index()).pip_args(), *reqs], f"pip install {' '.join(reqs)}")
        _link_kerasbench(py)
        check = "import kerasbench.worker.main" if worker_deps else "import kerasbench"
        run_checked([py, "-c", check], f"importing kerasbench in {name}", 120)
        versions = installed_versions(py)
    except EnvError:
        shutil.rmtree(path, ignore_errors=True)  # half an environment is worse than none
        raise
    record = EnvRecord(
        backend=name,  # the registry's key; see the report (a `name` field is asked for)
        path=str(path),
        python=py,
        python_version=interpreter.short,
        requirements=reqs,
        versions=versions,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        extra={
            "kind": KIND,
            "index": (index or Index()).pip_args(),
            "kerasbench": str(package_root()),
        },
    )
    where = legacy.save_record(record, root)
    log(f"{name}: ready (recorded in {where})")
    return record


def list_envs(root: Path | None = None) -> list[EnvRecord]:
    """The recorded named environments (not the legacy ones), by name."""
    records = legacy.load_registry(root).values()
    return sorted((r for r in records if r.extra.get("kind") == KIND), key=lambda r: r.backend)


def get(name: str, root: Path | None = None) -> EnvRecord:
    """The recorded, present environment ``name``; EnvError lists the valid names."""
    record = legacy.load_registry(root).get(name)
    if record is None or record.extra.get("kind") != KIND or not record.usable():
        names = ", ".join(r.backend for r in list_envs(root) if r.usable()) or "none"
        raise EnvError(f"no environment {name!r} (made: {names}); see `kerasbench env create`")
    return record


def remove(name: str, root: Path | None = None) -> Path:
    """Delete the environment ``name`` and its record; refuses links and paths outside home."""
    check_name(name)
    root = root or legacy.home()
    record = legacy.load_registry(root).get(name)
    if record is None or record.extra.get("kind") != KIND:
        raise EnvError(f"no environment {name!r} to remove")
    expected = root / "envs" / name
    if expected.is_symlink() or Path(record.path).is_symlink():
        raise EnvError(f"{expected} is a symbolic link; not removing what it points to")
    if Path(record.path).resolve() != expected.resolve():
        raise EnvError(f"{name}: recorded at {record.path}, outside {root / 'envs'}; not removing")
    shutil.rmtree(expected, ignore_errors=True)
    _drop_record(name, root)
    return expected


def _drop_record(name: str, root: Path) -> None:
    """Remove one entry from envs.json atomically (legacy.envs has no remove; see the report)."""
    path = legacy.registry_path(root)
    data = json.loads(path.read_text(encoding="utf-8"))
    data.get("envs", {}).pop(name, None)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2), "utf-8")
    os.replace(tmp, path)
