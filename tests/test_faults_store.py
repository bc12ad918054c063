"""The results store under hostile conditions: files that are not ours, old schemas,
a full disk, and several writers at once. No test here starts a worker."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kerasbench import cli
from kerasbench.envinfo import collect
from kerasbench.orchestrate import point as launch
from kerasbench.orchestrate import run as runner
from kerasbench.result import Result
from kerasbench.spec import Spec
from kerasbench.store import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_V1,
    SCHEMA_VERSION,
    Store,
    StoreError,
)

ROOT = Path(__file__).resolve().parent.parent


def make_result(seed: int = 0, run_id: str | None = None, label: str = "") -> Result:
    spec = Spec(model="mnist_mlp", backend="jax", seed=seed, label=label).resolved()
    result = Result.from_worker(spec, {"status": "ok", "window_times_s": [0.01 * (seed + 1)] * 3})
    return dataclasses.replace(result, run_id=run_id)


def folder_snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- files that are not ours are refused and never touched --------------------------


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    conn.commit()
    conn.close()


def _foreign_app_id(path: Path) -> None:
    _foreign_sqlite(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.close()


def _newer_schema(path: Path) -> None:
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.execute("PRAGMA journal_mode = DELETE")  # fold the WAL in: one file to compare
    conn.close()


def _corrupt_store(path: Path) -> None:
    with Store(path) as store:
        for i in range(30):  # about 30 pages of results
            store.save(dataclasses.replace(make_result(i), stderr_tail=f"{i}" * 3000))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 12 * page
    for offset in range(3 * page, 9 * page, 97):  # scribble over pages 4-9
        data[offset] = (data[offset] + 0x5A) % 256
    path.write_bytes(bytes(data))


def _truncated_store(path: Path) -> None:
    _corrupt_store(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("model,backend\nmnist_mlp,jax\n" * 50), "not a readable"),
        (lambda p: p.write_bytes(os.urandom(20_000)), "not a readable"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + os.urandom(5000)), "not a readable"),
        (_foreign_sqlite, "not a kerasbench results store"),
        (_foreign_app_id, "not a kerasbench results store"),
        (_newer_schema, "newer kerasbench"),
        (_corrupt_store, "corrupt|not a readable|malformed"),
        (_truncated_store, "corrupt|not a readable|malformed"),
    ],
    ids=["csv", "random", "bad-header", "foreign", "foreign-app-id", "newer", "corrupt", "cut"],
)
def test_untrusted_file_is_refused_and_left_byte_for_byte(tmp_path: Path, make, message) -> None:
    path = tmp_path / "results.db"
    make(path)
    before = folder_snapshot(tmp_path)
    for create in (True, False):
        with pytest.raises(StoreError, match=message):
            Store(path, create=create)
    assert folder_snapshot(tmp_path) == before  # no byte changed, no -wal/-shm left


def test_cli_reports_a_refused_store_on_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "results.db"
    _foreign_sqlite(path)
    before = path.read_bytes()
    assert cli.main(["report", "--results", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a kerasbench results store" in err
    assert path.read_bytes() == before


# --- older schemas are migrated -------------------------------------------------------


def make_v1_store(path: Path) -> None:
    """A store exactly as the first kerasbench (schema 1) left it, with one run and result."""
    conn = sqlite3.connect(path)
    for statement in SCHEMA_V1:
        conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    result = make_result(3, run_id="oldrun")
    conn.execute(
        "INSERT INTO runs (run_id, started_at, suite, argv, host_json, status)"
        " VALUES ('oldrun', '2025-01-01T00:00:00+00:00', 'quick', '[]', '{}', 'interrupted')"
    )
    conn.execute(
        "INSERT INTO results (run_id, point_key, model, backend, mode, status, label,"
        " started_at, record_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "oldrun",
            result.point_key,
            result.model,
            result.backend,
            result.mode,
            result.status,
            "",
            None,
            json.dumps(result.to_dict()),
        ),
    )
    conn.commit()
    conn.close()


def test_schema_1_store_is_migrated_and_keeps_its_results(tmp_path: Path) -> None:
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION))  # a step for every version
    path = tmp_path / "old.db"
    make_v1_store(path)
    with Store(path, create=False) as store:
        assert store.migrated_from == 1
        (old,) = store.results()
        assert old.seed == 3 and old.run_id == "oldrun"
        (run,) = store.runs()
        assert run.status == "interrupted" and run.planned is None
        # A run from before plans were stored cannot be resumed, and says so.
        with pytest.raises(StoreError, match="no stored plan"):
            runner.resume_points(store, "oldrun")
        store.save(make_result(4, run_id="newrun"), point_index=0)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    with Store(path) as store:  # opening again is a no-op
        assert store.migrated_from is None
        assert len(store.results(latest=False)) == 2


# --- a full disk ----------------------------------------------------------------------


def fake_run_point(spec: Spec, host, run_id=None, gpus=0) -> Result:
    """run_point without a worker: these tests are about saving, not measuring."""
    result = make_result(spec.seed, run_id=run_id)
    return dataclasses.replace(result, status="ok")


def test_full_disk_keeps_saved_results_and_writes_the_rest_beside_the_store(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(launch, "run_point", fake_run_point)
    path = tmp_path / "results.db"
    specs = [Spec(model="mnist_mlp", backend="jax", seed=i) for i in range(6)]
    host = collect()
    with Store(path) as store:
        run_id, points = runner.begin(store, "t", "", ["kerasbench"], host, specs)
        saved = len(store.results(latest=False))
        # SQLite's own "database or disk is full": the file may grow no further.
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages}")
        outcome = runner.execute(store, run_id, points, host, len(specs), show_progress=False)
    assert saved == 0
    assert outcome.save_error and "full" in outcome.save_error
    # A new file beside the store, named for the run plus a random part nobody can plant.
    assert outcome.unsaved_path.parent == tmp_path
    assert outcome.unsaved_path.name.startswith(f"results.db.unsaved-{run_id}-")
    (line,) = outcome.unsaved_path.read_text().splitlines()
    unsaved = json.loads(line)
    assert unsaved["point_index"] == len(outcome.results)
    assert Result.from_dict(unsaved["result"]).run_id == run_id
    with Store(path) as store:  # what was saved before is intact; the rest can be resumed
        assert [r.seed for r in store.results(run_id=run_id, latest=False)] == [
            r.seed for r in outcome.results
        ]
        pending = runner.resume_points(store, run_id)
        assert [i for i, _ in pending] == list(range(len(outcome.results), 6))


def test_cli_exits_3_and_says_where_the_unsaved_result_went(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(launch, "run_point", fake_run_point)
    real_save = Store.save
    calls = []

    def save(self, result, point_index=None):
        calls.append(point_index)
        if len(calls) == 3:
            raise StoreError(f"{self.path}: could not save the result: database or disk is full")
        real_save(self, result, point_index)

    monkeypatch.setattr(Store, "save", save)
    suite = tmp_path / "s.toml"
    suite.write_text('[defaults]\nmodel = "mnist_mlp"\nbackend = "jax"\nseed = [0, 1, 2, 3]\n')
    db = tmp_path / "r.db"
    assert cli.main(["run", "--suite", str(suite), "--results", str(db)]) == 3
    err = capsys.readouterr().err
    assert "database or disk is full" in err
    assert "r.db.unsaved-" in err and "--resume" in err
    with Store(db) as store:
        assert len(store.results(latest=False)) == 2
        assert store.runs()[0].status == "interrupted"


# --- several writers ------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import dataclasses, sys
    from kerasbench.result import Result
    from kerasbench.spec import Spec
    from kerasbench.store import Store

    path, label, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = Store(path)
    run = store.begin_run("t", label, [], {})
    for i in range(n):
        spec = Spec(model="mnist_mlp", backend="jax", seed=i, label=label).resolved()
        r = Result.from_worker(spec, {"status": "ok", "window_times_s": [0.01] * 50})
        # a long record, so that a torn write would show as broken JSON
        r = dataclasses.replace(r, run_id=run, stderr_tail="x" * 8000)
        store.save(r, point_index=i)
    store.end_run(run, "done")
    """
)

READER = textwrap.dedent(
    """
    import json, sqlite3, sys, time
    from kerasbench.result import Result

    path, expected = sys.argv[1], int(sys.argv[2])
    seen, reads = 0, 0
    deadline = time.monotonic() + 120
    while seen < expected and time.monotonic() < deadline:
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            rows = conn.execute("SELECT record_json FROM results").fetchall()
            conn.close()
        except sqlite3.OperationalError:
            continue  # the store is not created yet
        records = [Result.from_dict(json.loads(r[0])) for r in rows]  # whole, or raises
        assert all(len(r.stderr_tail) == 8000 for r in records)
        assert len(records) >= seen, "a saved result disappeared"
        seen, reads = len(records), reads + 1
    print(seen, reads)
    """
)


def python(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, text=True
    )


def test_two_writers_lose_nothing_and_a_reader_sees_only_whole_results(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"  # created by whichever writer comes first
    n = 60
    reader = python(READER, str(path), str(2 * n))
    writers = [python(WRITER, str(path), label, str(n)) for label in ("a", "b")]
    for w in writers:
        assert w.wait(timeout=180) == 0
    out, _ = reader.communicate(timeout=180)
    assert reader.returncode == 0
    seen, reads = map(int, out.split())
    assert seen == 2 * n and reads > 1
    with Store(path) as store:
        results = store.results(latest=False)
        assert len(results) == 2 * n
        for label in ("a", "b"):
            assert sorted(r.seed for r in results if r.label == label) == list(range(n))
        assert [r.status for r in store.runs()] == ["done", "done"]


def test_many_processes_creating_the_same_stores_at_once(tmp_path: Path) -> None:
    # Each process opens the same 15 new stores in the same order, so that they race
    # on every creation: none may take a half-created store for a foreign file.
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from kerasbench.store import Store

        for i in range(15):
            with Store(Path(sys.argv[1]) / f"new{i}.db") as s:
                s.begin_run("t", "", [], {})
        """
    )
    procs = [python(code, str(tmp_path)) for _ in range(4)]
    assert [p.wait(timeout=300) for p in procs] == [0] * 4
    for i in range(15):
        with Store(tmp_path / f"new{i}.db") as store:
            assert len(store.runs()) == 4
