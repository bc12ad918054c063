"""The PostgreSQL store against a real server (tests/conftest.py starts one per session)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kerasbench import cli
from kerasbench.store import SCHEMA_VERSION, Store, StoreError, open_store
from kerasbench.store.copy import copy_store
from tests.factories import make_result

psycopg = pytest.importorskip("psycopg")
ROOT = Path(__file__).resolve().parent.parent

WRITER = """
import sys, time
from kerasbench.store import open_store
from tests.factories import make_result
url, name, count, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
with open_store(url) as store:
    run_id = store.begin_run(None, name, [], {}, [])
    for i in range(count):
        result = make_result(100.0 + i, run_id=run_id, label=name, spec_seed=i)
        store.save(result, point_index=i)
        print(i, flush=True)
        time.sleep(pause)
    store.end_run(run_id, "done")
"""


def _writer(url: str, name: str, count: int, pause: float = 0.0) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", WRITER, url, name, str(count), str(pause)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)


def test_round_trip_runs_plan_and_results(pg_url):
    with open_store(pg_url) as store:
        assert store.migrated_from is None
        run_id = store.begin_run("quick", "main", ["kerasbench"], {"host": "h"}, [{"a": 1}] * 3)
        for i in range(2):
            store.save(make_result(50.0 * (i + 1), run_id=run_id, spec_seed=i), point_index=i)
        store.end_run(run_id, "interrupted")
        (run,) = store.runs()
        assert (run.run_id, run.status, run.planned, run.host) == (
            run_id,
            "interrupted",
            3,
            {"host": "h"},
        )
        assert store.run_plan(run_id) == [{"a": 1}] * 3
        assert store.finished_points(run_id) == {0, 1}
        got = store.results(run_id=run_id, latest=False)
        assert [r.samples_per_sec for r in got] == pytest.approx([50.0, 100.0])
        assert store.results(models=["nope"]) == []
    # Reopening a current store neither migrates nor changes it.
    with open_store(pg_url, create=False) as store:
        assert store.migrated_from is None and len(store.runs()) == 1


def test_unsupported_scheme_is_one_line_and_makes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=r"unsupported store scheme mysql://"):
        open_store("mysql://user@host/db")
    with pytest.raises(StoreError, match="a URL, not a results file"):
        Store("postgresql://user@host:5432/db")
    assert cli.main(["report", "--results", "mongodb://h/db"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "mongodb://" in err
    assert list(tmp_path.iterdir()) == []  # no folder "mongodb:" or "postgresql:"


def test_missing_store_and_unreachable_server(pg_url):
    with pytest.raises(StoreError, match="no results store here"):
        open_store(pg_url, create=False)
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://nobody:secret@127.0.0.1:1/none")
    try:
        open_store("postgresql://nobody:secret@127.0.0.1:1/none")
    except StoreError as exc:
        assert "secret" not in str(exc)  # the password never reaches a message


def _sql(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (["CREATE SCHEMA kerasbench", "CREATE TABLE kerasbench.stuff (x int)"], "'stuff'"),
        (["CREATE SCHEMA kerasbench", "CREATE TABLE kerasbench.runs (x int)"], "not a kerasbench"),
        (
            [
                "CREATE SCHEMA kerasbench",
                "CREATE TABLE kerasbench.meta (application_id bigint, schema_version int)",
                "INSERT INTO kerasbench.meta VALUES (42, 1)",
            ],
            "not a kerasbench",
        ),
        (["CREATE SCHEMA kerasbench", "CREATE VIEW kerasbench.v AS SELECT 1"], "'v'"),
    ],
    ids=["extra-table", "no-meta", "other-id", "view"],
)
def test_foreign_schema_is_refused_and_untouched(pg_url, setup, message):
    _sql(pg_url, *setup)
    before = _relations(pg_url)
    with pytest.raises(StoreError, match=message):
        open_store(pg_url)
    assert _relations(pg_url) == before


def _relations(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT relname, relkind FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE nspname = 'kerasbench' ORDER BY 1"
        ).fetchall()


def test_newer_schema_and_triggers_are_refused(pg_url):
    open_store(pg_url).close()
    _sql(pg_url, f"UPDATE kerasbench.meta SET schema_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer kerasbench"):
        open_store(pg_url)
    _sql(
        pg_url,
        f"UPDATE kerasbench.meta SET schema_version = {SCHEMA_VERSION}",
        "CREATE FUNCTION kerasbench.f() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RETURN NEW; END $$",
        "CREATE TRIGGER t BEFORE INSERT ON kerasbench.results"
        " FOR EACH ROW EXECUTE FUNCTION kerasbench.f()",
    )
    with pytest.raises(StoreError, match="triggers or rules"):
        open_store(pg_url)


def test_a_version_1_store_is_migrated(pg_url):
    from kerasbench.store.postgres import PG_SCHEMA_V1

    statements = [s.replace("CREATE TABLE ", "CREATE TABLE kerasbench.") for s in PG_SCHEMA_V1]
    statements = [s.replace(" ON results", " ON kerasbench.results") for s in statements]
    statements = [s.replace("REFERENCES runs", "REFERENCES kerasbench.runs") for s in statements]
    _sql(pg_url, "CREATE SCHEMA kerasbench", *statements)
    _sql(pg_url, "INSERT INTO kerasbench.meta VALUES (1262636611, 1)")
    with open_store(pg_url) as store:
        assert store.migrated_from == 1
        run_id = store.begin_run(None, "", [], {}, [{"x": 1}])
        store.save(make_result(10.0, run_id=run_id), point_index=0)
        assert store.finished_points(run_id) == {0}


def test_several_writers_at_once_lose_nothing(pg_url):
    open_store(pg_url).close()  # created once; the writers race on everything else
    writers = [_writer(pg_url, f"w{i}", 25) for i in range(4)]
    for w in writers:
        assert w.wait(timeout=120) == 0
    with open_store(pg_url) as store:
        results = store.results(latest=False)
        assert len(results) == 100
        for i in range(4):
            mine = [r for r in results if r.label == f"w{i}"]
            assert sorted(r.seed for r in mine) == list(range(25))
        assert {r.status for r in store.runs()} == {"done"}


def test_a_killed_writer_loses_nothing_committed(pg_url):
    writer = _writer(pg_url, "killed", 1000, pause=0.02)
    committed = -1
    assert writer.stdout is not None
    while committed < 10:
        committed = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    time.sleep(0.2)
    with open_store(pg_url) as store:
        results = store.results(label="killed", latest=False)
        assert len(results) >= committed + 1  # every result it reported saved is there
        (run,) = store.runs()
        assert run.status == "running"  # as a crash leaves it: resumable
        store.save(make_result(5.0, run_id=run.run_id), point_index=999)
        assert 999 in store.finished_points(run.run_id)


def test_copy_round_trip_sqlite_postgres_sqlite_keeps_every_field(pg_url, tmp_path):
    first, last = tmp_path / "a.db", tmp_path / "b.db"
    with Store(first) as src:
        run_id = src.begin_run("quick", "lab", ["x", "y"], {"cpu": "z"}, [{"k": 1}, {"k": 2}])
        extra = dataclasses.replace(
            make_result(123.0, run_id=run_id, n=7, sd=0.05), settings={"versions": {"keras": "3"}}
        )
        src.save(extra, point_index=0)
        src.save(make_result(7.0, run_id=run_id, status="failed"), point_index=1)
        src.save(make_result(8.0), point_index=None)  # a result saved without a run
        src.end_run(run_id, "done")
        rows = src.raw_runs(), src.raw_results()
        originals = src.results(latest=False)
    with Store(first) as src, open_store(pg_url) as pg:
        assert copy_store(src, pg).results == 3
        assert copy_store(src, pg).results == 0  # idempotent: nothing twice
    with open_store(pg_url) as pg, Store(last) as dst:
        copied = copy_store(pg, dst)
        assert (copied.runs, copied.results) == (1, 3)
        assert (dst.raw_runs(), dst.raw_results()) == rows
        assert dst.results(latest=False) == originals
        assert dst.runs() == Store(first).runs()


def test_store_copy_command(pg_url, tmp_path, capsys):
    db = tmp_path / "r.db"
    with Store(db) as store:
        store.save(make_result(1.0), point_index=None)
    assert cli.main(["store", "copy", str(db), pg_url]) == 0
    assert "1 result" in capsys.readouterr().out
    assert cli.main(["store", "copy", str(db), pg_url]) == 0
    assert "0 results" in capsys.readouterr().out
    assert cli.main(["store", "copy", str(tmp_path / "none.db"), pg_url]) == 2
