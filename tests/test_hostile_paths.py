"""Paths an attacker can plant: the unsaved-results file and the mxnet environment target."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from kerasbench.legacy import envs
from kerasbench.orchestrate.run import write_unsaved
from tests.factories import make_result


def test_unsaved_results_never_follow_a_planted_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    store = tmp_path / "gone" / "r.db"  # the store's folder went away: the fallback is /tmp
    # The old predictable name, planted in the shared folder, pointing at the victim.
    os.symlink(victim, shared_tmp / f"{store.name}.unsaved-run1.jsonl")
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    where = write_unsaved(store, "run1", make_result(), 3)
    assert victim.read_text() == "precious\n"
    assert where is not None and where.parent == shared_tmp and not where.is_symlink()
    assert '"point_index": 3' in where.read_text()
    assert (where.stat().st_mode & 0o777) == 0o600
    # Two unsaved results never share (or append to) one file.
    assert write_unsaved(store, "run1", make_result(), 4) != where


def test_setup_refuses_a_symlinked_environment_target(tmp_path: Path) -> None:
    elsewhere = tmp_path / "home_of_someone"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("x")
    (tmp_path / "root" / "envs").mkdir(parents=True)
    os.symlink(elsewhere, tmp_path / "root" / "envs" / "mxnet")
    with pytest.raises(envs.EnvError, match="symlink; refusing to clear it"):
        envs.setup("mxnet", root=tmp_path / "root", force=True, log=lambda line: None)
    assert (elsewhere / "keep").read_text() == "x"


def test_setup_refuses_a_folder_that_is_not_a_venv(tmp_path: Path) -> None:
    target = tmp_path / "root" / "envs" / "mxnet"
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("mine")
    with pytest.raises(envs.EnvError, match="not a virtual environment"):
        envs.setup("mxnet", root=tmp_path / "root", force=True, log=lambda line: None)
    assert (target / "notes.txt").read_text() == "mine"
