"""Environments of the legacy backends: found, made, checked and recorded.

keras-mxnet 2.2.4.3 imports only under Python 3.7-3.9 (it uses
``collections.Iterable``) with numpy < 1.22, so the ``mxnet`` backend runs in
a virtual environment of its own, made by ``kerasbench setup mxnet``:

1. find an interpreter: ``--python PATH``, else ``python3.7``..``python3.9`` on
   PATH, else pyenv's versions (``pyenv root``); each candidate is run once to
   learn its real version and executable (a pyenv shim may exist on PATH yet
   fail to run);
2. create ``<home>/envs/mxnet`` with that interpreter's ``venv`` and pip-install
   the pinned packages;
3. import them there (Keras on the MXNet backend, in a throwaway KERAS_HOME) and
   record the interpreter and the versions in ``<home>/envs.json``.

``<home>`` is ``$KERASBENCH_HOME``, else ``$XDG_DATA_HOME/kerasbench``, else
``~/.local/share/kerasbench``. The launcher reads the record to start workers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REGISTRY_NAME = "envs.json"
REGISTRY_VERSION = 1
PIP_TIMEOUT_S = 1800.0
PROBE_TIMEOUT_S = 30.0


class EnvError(Exception):
    """An environment that cannot be found, made or used; the message says what to do."""


class InstallError(EnvError):
    """pip could not install the pinned packages (often: no network or no wheel)."""


@dataclass(frozen=True)
class Recipe:
    """How to make the environment of one legacy backend."""

    backend: str
    python_versions: tuple[tuple[int, int], ...]  # supported, in order of preference
    requirements: tuple[str, ...]
    keras_backend: str  # KERAS_BACKEND inside the environment
    # Prints one JSON object of versions on its last line of output.
    check: str
    gpu_note: str = ""

    def python_range(self) -> str:
        first, last = self.python_versions[0], self.python_versions[-1]
        return f"{first[0]}.{first[1]}-{last[0]}.{last[1]}"


MXNET = Recipe(
    backend="mxnet",
    # 3.7 first: the version keras-mxnet was last released for, and the one tested here.
    python_versions=((3, 7), (3, 8), (3, 9)),
    requirements=("mxnet==1.9.1", "keras-mxnet==2.2.4.3", "numpy<1.22"),
    keras_backend="mxnet",
    check=(
        "import json, platform, numpy, mxnet, keras\n"
        "print(json.dumps({'python': platform.python_version(), 'numpy': numpy.__version__,"
        " 'mxnet': mxnet.__version__, 'keras': keras.__version__,"
        " 'keras_backend': keras.backend.backend(),"
        " 'gpus': mxnet.context.num_gpus()}))"
    ),
    gpu_note="on a CUDA machine pass --cuda VERSION (e.g. 112) to install mxnet-cuVERSION instead",
)
RECIPES: dict[str, Recipe] = {MXNET.backend: MXNET}


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter that ran: its real executable and version."""

    executable: str
    version: tuple[int, int, int]

    @property
    def short(self) -> str:
        return ".".join(map(str, self.version))


@dataclass(frozen=True)
class EnvRecord:
    """Where a legacy backend's environment is and what it holds (one entry of envs.json)."""

    backend: str
    path: str  # the virtual environment's folder
    python: str  # its interpreter
    python_version: str
    requirements: list[str]
    versions: dict[str, Any]  # what the check imported: mxnet, keras, numpy, ...
    created_at: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def keras_version(self) -> str | None:
        return self.versions.get("keras")

    @property
    def backend_version(self) -> str | None:
        return self.versions.get(self.backend)

    def usable(self) -> bool:
        return Path(self.python).exists()


def home() -> Path:
    """kerasbench's data folder (environments and their record)."""
    explicit = os.environ.get("KERASBENCH_HOME")
    if explicit:
        return Path(explicit).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "kerasbench"


def registry_path(root: Path | None = None) -> Path:
    return (root or home()) / REGISTRY_NAME


def load_registry(root: Path | None = None) -> dict[str, EnvRecord]:
    """The recorded environments; an unreadable or foreign record counts as none."""
    path = registry_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("envs"), dict):
        return {}
    records = {}
    for name, entry in data["envs"].items():
        try:
            records[name] = EnvRecord(**entry)
        except TypeError:  # written by another version: ignore rather than guess
            continue
    return records


def save_record(record: EnvRecord, root: Path | None = None) -> Path:
    """Add or replace one backend's record, atomically."""
    path = registry_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    envs = {name: asdict(r) for name, r in load_registry(root).items()}
    envs[record.backend] = asdict(record)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"version": REGISTRY_VERSION, "envs": envs}, indent=2), "utf-8")
    os.replace(tmp, path)
    return path


def recorded(backend: str, root: Path | None = None) -> EnvRecord | None:
    """The usable recorded environment of ``backend``, else None."""
    record = load_registry(root).get(backend)
    return record if record is not None and record.usable() else None


def missing(backend: str) -> list[str]:
    """What ``backend`` lacks here (empty when its environment is recorded and present)."""
    if recorded(backend) is not None:
        return []
    return [f"its Python {RECIPES[backend].python_range()} environment"]


# ----------------------------------------------------------------------------- interpreters


def probe(candidate: str) -> Interpreter | None:
    """Run ``candidate`` once; its real executable and version, or None if it does not run."""
    code = "import sys; print(sys.executable); print('%d %d %d' % sys.version_info[:3])"
    try:
        out = subprocess.run(
            [candidate, "-c", code],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.split("\n")
    if out.returncode != 0 or len(lines) < 2:
        return None
    try:
        major, minor, micro = (int(v) for v in lines[1].split())
    except ValueError:
        return None
    return Interpreter(lines[0].strip() or candidate, (major, minor, micro))


def _pyenv_root() -> Path | None:
    root = os.environ.get("PYENV_ROOT")
    if root:
        return Path(root)
    pyenv = shutil.which("pyenv")
    if not pyenv:
        return None
    try:
        out = subprocess.run(
            [pyenv, "root"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def candidates(versions: tuple[tuple[int, int], ...]) -> list[str]:
    """Places a Python of ``versions`` may be, in order of preference (not yet run)."""
    found: list[str] = []
    pyenv = _pyenv_root()
    for major, minor in versions:
        on_path = shutil.which(f"python{major}.{minor}")
        if on_path:
            found.append(on_path)
        if pyenv is not None:
            found.extend(
                str(p)
                for p in sorted((pyenv / "versions").glob(f"{major}.{minor}.*/bin/python{major}"))
            )
    return list(dict.fromkeys(found))


def find_interpreter(recipe: Recipe, python: str | None = None) -> Interpreter:
    """The interpreter to build ``recipe``'s environment with; EnvError says what to install."""
    wanted = recipe.python_range()
    if python is not None:
        found = probe(python)
        if found is None:
            raise EnvError(f"--python {python}: it does not run")
        if found.version[:2] not in recipe.python_versions:
            raise EnvError(
                f"--python {python} is Python {found.short}; {recipe.backend} needs Python {wanted}"
            )
        return found
    for candidate in candidates(recipe.python_versions):
        found = probe(candidate)
        if found is not None and found.version[:2] in recipe.python_versions:
            return found
    raise EnvError(
        f"no Python {wanted} found (looked for python3.7..python3.9 on PATH and under pyenv); "
        f"{recipe.backend} needs one: install it (e.g. `pyenv install 3.7.16`, or your system's "
        f"python3.7 with its venv module) and run `kerasbench setup {recipe.backend} "
        "--python /path/to/python3.7`"
    )


# ----------------------------------------------------------------------------- setup


def requirements(recipe: Recipe, cuda: str | None = None) -> list[str]:
    """The pinned requirements; with ``cuda`` the CUDA build of MXNet (mxnet-cuXXX)."""
    reqs = list(recipe.requirements)
    if cuda:
        if not cuda.isdigit():
            raise EnvError(f"--cuda: expected digits such as 112 (CUDA 11.2), got {cuda!r}")
        reqs = [r.replace("mxnet==", f"mxnet-cu{cuda}==", 1) for r in reqs]
    return reqs


def check_env(python: str, recipe: Recipe) -> dict[str, Any]:
    """Import the packages in the environment; the versions they report."""
    with tempfile.TemporaryDirectory(prefix="kerasbench-check-") as keras_home:
        # A throwaway KERAS_HOME: keras writes keras.json on import, never into ~/.keras.
        env = {**os.environ, "KERAS_BACKEND": recipe.keras_backend, "KERAS_HOME": keras_home}
        try:
            out = subprocess.run(
                [python, "-I", "-c", recipe.check],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise EnvError(f"{python}: cannot run the import check: {exc}") from None
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        tail = "\n".join(out.stderr.strip().splitlines()[-5:])
        raise EnvError(f"the {recipe.backend} environment does not import:\n{tail}")
    try:
        return json.loads(lines[-1])
    except ValueError:
        raise EnvError(f"the import check printed {lines[-1]!r}, not versions") from None


def env_python(path: Path) -> Path:
    return path / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def check_target(path: Path) -> None:
    """Refuse to (re)make an environment over a symlink or a folder that is not a venv.

    ``venv --clear`` empties its target: through a planted symlink, or on a
    folder someone else keeps there, that would delete what is not ours.
    """
    if path.is_symlink() or path.parent.is_symlink():
        raise EnvError(f"{path}: is (or is inside) a symlink; refusing to clear it")
    if path.exists() and not (path / "pyvenv.cfg").is_file():
        raise EnvError(f"{path}: exists and is not a virtual environment; move it away first")


def setup(
    backend: str,
    python: str | None = None,
    root: Path | None = None,
    cuda: str | None = None,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> EnvRecord:
    """Make (or reuse) ``backend``'s environment and record it; returns the record."""
    if backend not in RECIPES:
        raise EnvError(f"unknown environment {backend!r}; valid: {', '.join(RECIPES)}")
    recipe = RECIPES[backend]
    root = root or home()
    reqs = requirements(recipe, cuda)
    existing = recorded(backend, root)
    if existing is not None and not force and python is None and existing.requirements == reqs:
        log(f"{backend}: already set up at {existing.path}; checking it imports")
        check_env(existing.python, recipe)
        return existing

    path = root / "envs" / backend
    check_target(path)
    interpreter = find_interpreter(recipe, python)
    log(f"{backend}: creating {path} with Python {interpreter.short} ({interpreter.executable})")
    path.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(
        [interpreter.executable, "-m", "venv", "--clear", str(path)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        raise EnvError(
            f"Python {interpreter.short} could not create a venv ({made.stderr.strip()[-300:]}); "
            "install its venv module (e.g. python3.7-venv) or pass another --python"
        )
    py = str(env_python(path))
    log(f"{backend}: installing {' '.join(reqs)} (about a minute on a fast network)")
    try:
        pip = subprocess.run(
            [py, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
            + reqs,
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise InstallError(f"pip did not finish within {PIP_TIMEOUT_S:g} s") from None
    if pip.returncode != 0:
        tail = "\n".join((pip.stdout + pip.stderr).strip().splitlines()[-8:])
        raise InstallError(f"pip could not install {' '.join(reqs)}:\n{tail}")
    log(f"{backend}: checking that Keras imports on {recipe.keras_backend}")
    versions = check_env(py, recipe)
    if versions.get("keras_backend") != recipe.keras_backend:
        raise EnvError(f"keras in {path} runs on {versions.get('keras_backend')!r}")
    record = EnvRecord(
        backend=backend,
        path=str(path),
        python=py,
        python_version=str(versions.get("python", interpreter.short)),
        requirements=reqs,
        versions=versions,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        extra={"base_interpreter": interpreter.executable},
    )
    where = save_record(record, root)
    log(f"{backend}: ready (recorded in {where})")
    return record
