"""Named environments: made from a local index of tiny fake wheels, listed, removed safely."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kerasbench.envs import EnvError, Index, check_name, create, get, list_envs, remove
from kerasbench.legacy import envs as legacy


def make_wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal valid pure-Python wheel of package ``name`` whose __version__ is ``version``."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"__version__ = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{path},sha256={b64},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def fake_index(folder: Path, versions: list[str], name: str = "fakepkg") -> Index:
    folder.mkdir(parents=True, exist_ok=True)
    for version in versions:
        make_wheel(folder, name, version)
    return Index(find_links=(str(folder),), no_index=True)


def venv_missing() -> str | None:
    out = subprocess.run([sys.executable, "-m", "venv", "--help"], capture_output=True)
    return None if out.returncode == 0 else "this Python has no venv module"


needs_venv = pytest.mark.skipif(bool(venv_missing()), reason=str(venv_missing()))


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory):
    """One environment made from the fake index (venv + pip: a few seconds), shared."""
    if venv_missing():
        pytest.skip(venv_missing())
    tmp = tmp_path_factory.mktemp("envs")
    index = fake_index(tmp / "index", ["1.0.0", "1.1.0", "1.2.0"])
    root = tmp / "home"
    record = create("old", ["fakepkg==1.1.0"], index=index, root=root, worker_deps=False, log=str)
    return root, index, record


@needs_venv
def test_create_installs_the_pinned_version_and_records_it(made):
    root, _, record = made
    assert record.versions["fakepkg"] == "1.1.0"
    assert record.requirements == ["fakepkg==1.1.0"]
    code = "import fakepkg, kerasbench; print(fakepkg.__version__, kerasbench.__file__)"
    out = subprocess.run([record.python, "-c", code], capture_output=True, text=True, check=True)
    version, where = out.stdout.split()
    assert version == "1.1.0"
    assert (
        Path(where).resolve() == (Path(__file__).parent.parent / "kerasbench/__init__.py").resolve()
    )
    stored = json.loads(legacy.registry_path(root).read_text())["envs"]["old"]
    assert stored["extra"]["kind"] == "named" and stored["versions"]["fakepkg"] == "1.1.0"
    assert [r.backend for r in list_envs(root)] == ["old"]
    assert get("old", root).python == record.python


@needs_venv
def test_same_request_reuses_and_other_request_needs_force(made):
    root, index, record = made
    again = create("old", ["fakepkg==1.1.0"], index=index, root=root, worker_deps=False, log=str)
    assert again == record
    with pytest.raises(EnvError, match="--force"):
        create("old", ["fakepkg==1.2.0"], index=index, root=root, worker_deps=False, log=str)


@needs_venv
def test_failed_install_leaves_nothing(made, tmp_path):
    root, index, _ = made
    with pytest.raises(EnvError, match="pip install fakepkg==9.9"):
        create("broken", ["fakepkg==9.9"], index=index, root=root, worker_deps=False, log=str)
    assert not (root / "envs" / "broken").exists()
    assert "broken" not in legacy.load_registry(root)


@needs_venv
def test_remove_deletes_folder_and_record(made):
    root, index, _ = made
    create("gone", ["fakepkg==1.0.0"], index=index, root=root, worker_deps=False, log=str)
    assert remove("gone", root) == root / "envs" / "gone"
    assert not (root / "envs" / "gone").exists()
    assert [r.backend for r in list_envs(root)] == ["old"]
    with pytest.raises(EnvError, match="no environment 'gone'"):
        get("gone", root)


def test_remove_refuses_links_and_paths_outside_home(tmp_path):
    root = tmp_path / "home"
    victim = tmp_path / "precious"
    victim.mkdir()
    (root / "envs").mkdir(parents=True)
    (root / "envs" / "linked").symlink_to(victim)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for name, path in (("linked", root / "envs" / "linked"), ("moved", outside)):
        record = legacy.EnvRecord(
            backend=name, path=str(path), python=str(path / "bin/python"), python_version="3.11",
            requirements=[], versions={}, created_at="", extra={"kind": "named"},
        )  # fmt: skip
        legacy.save_record(record, root)
    with pytest.raises(EnvError, match="symbolic link"):
        remove("linked", root)
    with pytest.raises(EnvError, match="outside"):
        remove("moved", root)
    assert victim.exists() and outside.exists()


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".", "mxnet", "-x", "x" * 65])
def test_bad_names_are_one_line_errors(name):
    with pytest.raises(EnvError, match="environment name"):
        check_name(name)


def test_bad_specs_and_no_specs_are_errors(tmp_path):
    with pytest.raises(EnvError, match="give the packages"):
        create("x", [], root=tmp_path, log=str)
    with pytest.raises(EnvError, match="not a requirement"):
        create("x", ["keras==="], root=tmp_path, log=str)


def test_index_pip_args():
    assert Index().pip_args() == []
    assert Index(index_url="http://i", find_links=("a", "b"), no_index=True).pip_args() == [
        "--no-index", "--index-url", "http://i", "--find-links", "a", "--find-links", "b",
    ]  # fmt: skip


def test_worker_requirement_added_unless_named():
    from kerasbench.envs.named import _requirements

    assert _requirements(["keras==3.10.0"], worker_deps=True) == ["keras==3.10.0", "numpy"]
    assert _requirements(["keras", "numpy<2"], worker_deps=True) == ["keras", "numpy<2"]
    assert _requirements(["keras"], worker_deps=False) == ["keras"]
