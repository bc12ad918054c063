"""Results stores made by someone else: views, triggers, bad rows, read-only WAL, odd paths.

Each is refused with a one-line StoreError (exit 2 from the CLI), or read as it is.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from factories import make_result

from kerasbench import cli
from kerasbench.store import Store, StoreError

ROOT = Path(__file__).resolve().parents[1]
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"


def _store(path: Path, results: int = 1) -> Path:
    with Store(path) as store:
        run = store.begin_run("quick", "", ["kerasbench"], {"hostname": "h"})
        for seed in range(results):
            store.save(dataclasses.replace(make_result(1000.0, seed=seed), run_id=run))
        store.end_run(run, "done")
    return path


def _tamper(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _cli_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = cli.main(list(argv))
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE, err
    assert err.count("\n") == 1 and err.startswith("kerasbench: error: "), err
    return err


def test_results_view_over_an_endless_query_is_refused(tmp_path: Path, capsys) -> None:
    path = _store(tmp_path / "r.db")
    _tamper(
        path,
        "ALTER TABLE results RENAME TO old_results",
        f"CREATE VIEW results AS SELECT *, 0 AS x FROM old_results, ({ENDLESS})",
    )
    err = _cli_error(capsys, "report", "--results", str(path))
    assert "view 'results'" in err and "refusing it" in err


def test_trigger_that_rewrites_saved_results_is_refused_and_file_untouched(tmp_path: Path) -> None:
    path = _store(tmp_path / "r.db")
    _tamper(
        path,
        "CREATE TRIGGER rewrite AFTER INSERT ON results BEGIN"
        " UPDATE results SET record_json = '{}' WHERE id = new.id; END",
    )
    before = path.read_bytes()
    with pytest.raises(StoreError, match="trigger 'rewrite'"):
        Store(path)
    assert path.read_bytes() == before


def test_extra_index_or_table_is_refused(tmp_path: Path) -> None:
    path = _store(tmp_path / "r.db")
    _tamper(path, "CREATE TABLE extra (x)")
    with pytest.raises(StoreError, match="table 'extra'"):
        Store(path, create=False)


def test_reads_stop_at_the_time_limit_and_schema_is_not_trusted(tmp_path: Path) -> None:
    with Store(_store(tmp_path / "r.db"), create=False, read_time_limit_s=0.2) as store:
        assert store._conn.execute("PRAGMA trusted_schema").fetchone()[0] == 0
        with pytest.raises(StoreError, match="took longer than 0.2 s"):
            store._read(f"SELECT count(*) FROM ({ENDLESS})")
        assert len(store.results()) == 1  # the handler is gone after the stopped read


@pytest.mark.parametrize(
    "record, message",
    [
        ("not json {", "result row 1: not JSON"),
        ("[1]", "result row 1: expected a result record (an object), got a list"),
        ('{"model": "m"}', "result row 1: missing field"),
        (None, "result row 1: field 'batch_size' has the wrong type"),
        (None, "result row 1: field 'window_times_s' has the wrong type"),
    ],
)
def test_bad_record_json_is_a_one_line_error(
    tmp_path: Path, capsys, record: str | None, message: str
) -> None:
    path = _store(tmp_path / "r.db")
    if record is None:
        data = make_result(1000.0).to_dict()
        field = message.split("'")[1]
        data[field] = "x" if field == "batch_size" else ["slow", 1]
        record = json.dumps(data)
    _tamper(path, f"UPDATE results SET record_json = '{record}'")
    err = _cli_error(capsys, "report", "--results", str(path))
    assert message in err


def test_damaged_run_record_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    path = _store(tmp_path / "r.db")
    _tamper(path, "UPDATE runs SET host_json = 'nope', started_at = 5")
    with Store(path, create=False) as store, pytest.raises(StoreError, match="damaged run record"):
        store.runs()


READ_ONLY_READER = """
import sys
from kerasbench.store import Store
with Store(sys.argv[1], create=False) as store:
    print("read-only", store.readonly, len(store.results()))
"""


def test_wal_store_on_a_read_only_mount_is_readable(tmp_path: Path) -> None:
    # The unfixed reader said "not a readable results store (unable to open database file)".
    if not shutil.which("unshare"):
        pytest.skip("needs unshare(1) for a read-only bind mount")
    path = _store(tmp_path / "w" / "r.db", results=2)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    (tmp_path / "ro").mkdir()
    script = tmp_path / "reader.py"
    script.write_text(READ_ONLY_READER)
    inner = (
        f"mount --bind -o ro {path.parent} {tmp_path / 'ro'} || exit 77; "
        f"{sys.executable} {script} {tmp_path / 'ro' / 'r.db'}"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        ["unshare", "-r", "-m", "sh", "-c", inner], env=env, capture_output=True, text=True
    )
    if done.returncode == 77 or "Operation not permitted" in done.stderr:
        pytest.skip(f"no read-only bind mount here: {done.stderr.strip()[:100]}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["read-only", "True", "2"]


def test_results_path_through_a_file_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError, match="cannot create a results store here"):
        Store(tmp_path / "afile" / "r.db")
