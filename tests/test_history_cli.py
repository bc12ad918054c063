"""``kerasbench history`` and ``kerasbench bisect`` from the command line."""

from __future__ import annotations

import dataclasses

import pytest
from packaging.version import Version

from kerasbench import cli
from kerasbench.commands import bisect as bisect_command
from kerasbench.store import Store, open_store
from tests.factories import make_result
from tests.test_envs import fake_index, venv_missing

RELEASES = ["3.8.0", "3.9.0", "3.10.0", "3.11.0"]


def _history(store, drop_from: str | None, factor: float = 0.75) -> None:
    """Three results per release, one run each; releases from ``drop_from`` on are slower."""
    minute = 0
    for version in RELEASES:
        slow = drop_from is not None and Version(version) >= Version(drop_from)
        for i in range(3):
            run_id = store.begin_run(None, "", [], {}, [])
            speed = 1000.0 * (factor if slow else 1.0) * (1 + 0.01 * ((i * 7) % 3 - 1))
            r = make_result(speed, n=6, run_id=run_id)
            r = dataclasses.replace(
                r,
                versions={"keras": version, "numpy": "2.0"},
                started_at=f"2025-01-01T{minute // 60:02d}:{minute % 60:02d}:00+00:00",
            )
            store.save(r)
            minute += 1


def test_history_finds_the_step_and_gates_on_it(tmp_path, capsys):
    db = tmp_path / "r.db"
    with Store(db) as store:
        _history(store, "3.11.0")
    assert cli.main(["history", "--results", str(db), "--by", "keras"]) == 1
    out = capsys.readouterr().out
    assert "mnist_mlp jax train_on_batch" in out and "12 results by keras" in out
    assert "step at 3.11.0: -25.0%" in out and "REGRESSION" in out
    assert cli.main(["history", "--results", str(db), "--by", "keras", "--threshold", "30%"]) == 0
    capsys.readouterr()
    # By date the same step shows; another model's filter leaves nothing.
    assert cli.main(["history", "--results", str(db)]) == 1
    assert "by date" in capsys.readouterr().out
    assert cli.main(["history", "--results", str(db), "--models", "gru"]) == 0
    assert "no results to show a history of" in capsys.readouterr().out


def test_history_without_a_change_exits_0(tmp_path, capsys):
    db = tmp_path / "r.db"
    with Store(db) as store:
        _history(store, None)
    assert cli.main(["history", "--results", str(db), "--by", "keras"]) == 0
    assert "no significant change" in capsys.readouterr().out


def test_history_html_page(tmp_path, capsys):
    db, page = tmp_path / "r.db", tmp_path / "out" / "history.html"
    with Store(db) as store:
        _history(store, "3.10.0")
    argv = ["history", "--results", str(db), "--by", "keras", "--format", "html"]
    assert cli.main([*argv, "--out", str(page)]) == 1
    html = page.read_text()
    assert "<svg" in html and "Content-Security-Policy" in html and "<script" not in html
    assert "step at 3.10.0" in html and "(REGRESSION)" in html
    assert cli.main(argv) == 2  # html needs --out
    assert cli.main(["history", "--results", str(db), "--threshold", "lots"]) == 2


def test_history_reads_a_postgresql_store(pg_url, capsys):
    with open_store(pg_url) as store:
        _history(store, "3.11.0")
    assert cli.main(["history", "--results", pg_url, "--by", "keras"]) == 1
    assert "step at 3.11.0" in capsys.readouterr().out


@pytest.fixture
def bisect_env(tmp_path, monkeypatch):
    reason = venv_missing()
    if reason:
        pytest.skip(reason)
    index = fake_index(tmp_path / "index", ["1.0.0", "1.1.0", "1.2.0", "1.3.0"])
    monkeypatch.setenv("KERASBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(bisect_command, "WORKER_DEPS", False)  # fake wheels, no numpy
    return index


def test_bisect_end_to_end_on_a_local_index(bisect_env, monkeypatch, capsys):
    """Real environments from fake wheels; the measure asks each which release it holds."""
    from kerasbench.envs import get

    def make_measure(spec, log=print):
        def measure(env: str) -> list[float]:
            version = get(env).versions["fakepkg"]
            level = 700.0 if version >= "1.2.0" else 1000.0
            return [level + i for i in range(6)]

        return measure

    monkeypatch.setattr(bisect_command, "make_measure", make_measure)
    argv = ["bisect", "fakepkg", "1.0.0", "1.3.0", "--model", "mnist_mlp", "--backend", "jax"]
    argv += ["--no-index", "--find-links", str(bisect_env.find_links[0])]
    assert cli.main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "first slower release: 1.2.0 (last good: 1.1.0" in out
    assert "1.3.0" in out and "slower" in out
    assert cli.main([*argv[:3], "9.9.9", *argv[4:]]) == 2  # BAD is not on the index


def test_bisect_measure_runs_a_real_point():
    """The real measure: one tiny point in this interpreter (env ""), window throughputs."""
    spec = bisect_command.point_spec(
        type(
            "Args",
            (),
            {"model": "mnist_mlp", "backend": "jax", "mode": "input_only", "batch_size": 32,
             "steps": 4},
        )()
    )  # fmt: skip
    speeds = bisect_command.make_measure(spec, log=str)("")
    assert len(speeds) >= 2 and all(s > 0 for s in speeds)
