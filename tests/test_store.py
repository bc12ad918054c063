"""The results store: round trip, latest-per-point, and refusing files it must not touch."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kerasbench.result import Result
from kerasbench.spec import Spec
from kerasbench.store import SCHEMA_VERSION, Store, StoreError


def make_result(speed: float, backend: str = "jax", label: str = "", **kw) -> Result:
    spec = Spec(model="mnist_mlp", backend=backend, label=label, **kw).resolved()
    return Result.from_worker(
        spec, {"status": "ok", "window_times_s": [spec.batch_size * spec.window_steps / speed] * 3}
    )


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    result = make_result(1000.0)
    with Store(tmp_path / "r.db") as store:
        run = store.begin_run("quick", "", ["kerasbench"], {"hostname": "h"})
        store.save(result.__class__(**{**result.__dict__, "run_id": run}))
        store.end_run(run, "done")
    with Store(tmp_path / "r.db", create=False) as store:
        (back,) = store.results()
        assert back.samples_per_sec == pytest.approx(1000.0)
        assert back.window_times_s == result.window_times_s
        assert back.run_id == run
        assert store.runs()[0].status == "done"


def test_latest_result_per_point_and_label(tmp_path: Path) -> None:
    with Store(tmp_path / "r.db") as store:
        store.save(make_result(100.0))
        store.save(make_result(200.0))
        store.save(make_result(300.0, backend="torch"))
        store.save(make_result(50.0, label="base"))
        latest = store.results()
        assert [(r.backend, r.label, round(r.samples_per_sec)) for r in latest] == [
            ("jax", "", 200),
            ("torch", "", 300),
            ("jax", "base", 50),
        ]
        assert len(store.results(latest=False)) == 4
        assert [r.label for r in store.results(label="base")] == ["base"]
        assert [r.backend for r in store.results(backends=["torch"])] == ["torch"]


def test_refuses_a_foreign_sqlite_file_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a kerasbench results store"):
        Store(path)
    assert path.read_bytes() == before


def test_refuses_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("hello, these are my notes\n" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a readable results store"):
        Store(path)
    assert path.read_bytes() == before


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer kerasbench"):
        Store(path)


def test_report_of_a_missing_store_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no results store here"):
        Store(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()
