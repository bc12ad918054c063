"""python benchmarks/hostile_inputs.py [--only SUBSTRING] [--timeout 60] [--memory-mib 2048]

Runs a corpus of crafted inputs (results stores, JSON exports for compare, suite
files, data paths, CIFAR-10 pickles, images, text) through kerasbench, each in
its own subprocess under a memory limit (RLIMIT_AS) and a time limit, in a fresh
folder that is also its HOME and TMPDIR. Prints one row per case: what was
expected (refused with one line, or read fine), what happened (refused / ok /
crash / hang / traceback / several lines / wrote outside its output paths), and
the first line of stderr. Exits 1 when any case misbehaves (target: none).

CLI cases run ``python -m kerasbench ...``. Dataset contents are read in a
worker, which needs a backend and a model; those cases run the worker's own
readers (kerasbench.data) directly instead, with the same limits.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import data_fixtures as fx  # noqa: E402
from factories import make_result  # noqa: E402

from kerasbench.store import Store  # noqa: E402

READER = """
import sys
from pathlib import Path
from kerasbench.data import cifar10, imagefolder, sources, text
kind, path = sys.argv[1], Path(sys.argv[2])
try:
    if kind == "cifar":
        print(cifar10.load(path).images.shape)
    elif kind == "image":
        print(imagefolder.decode(path, "resize_crop", 224).shape)
    else:
        ids, vocab = text.text_ids(sources.read_text(path))
        print(len(text.TextWindows(ids, 40)), vocab)
except (cifar10.DataError, ValueError) as exc:
    print(f"kerasbench: error: {exc}", file=sys.stderr)
    sys.exit(2)
"""


@dataclass
class Case:
    name: str
    make: Callable[[Path], list[str]]  # builds the inputs in a folder; returns the argv
    expect: str = "refused"  # or "ok"
    outputs: tuple[str, ...] = ()  # files the command may create in its folder
    check: Callable[[str], bool] | None = None  # extra test of stdout for an "ok" case


def kb(*args: str) -> list[str]:
    return [sys.executable, "-m", "kerasbench", *args]


def reader(kind: str, path: Path) -> list[str]:
    return [sys.executable, "-c", READER, kind, str(path)]


# --- results stores --------------------------------------------------------------


def _store(path: Path, label: str = "") -> Path:
    with Store(path) as store:
        run = store.begin_run("quick", label, ["kerasbench"], {"hostname": "h"})
        store.save(dataclasses.replace(make_result(1000.0, label=label), run_id=run))
        store.end_run(run, "done")
    return path


def _tampered(folder: Path, *statements: str) -> Path:
    path = _store(folder / "r.db")
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path


ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"


# SQLite's own side files of the store named on the command line (a read-only look
# at a WAL store leaves them; they hold nothing of the store's).
SIDE_FILES = ("r.db-shm", "r.db-wal")


def store_case(name: str, *statements: str) -> Case:
    make = lambda d: kb("report", "--results", str(_tampered(d, *statements)))  # noqa: E731
    return Case(name, make, outputs=SIDE_FILES)


def _record(change: dict) -> str:
    return json.dumps({**make_result(1000.0).to_dict(), **change}).replace("'", "''")


def _export(folder: Path, records: object, text: str | None = None) -> list[str]:
    path = folder / "a.json"
    path.write_text(json.dumps(records) if text is None else text)
    return kb("compare", str(path), str(path))


def _labelled(folder: Path, label: str) -> list[str]:
    """A report of two labels, so that the label is a column and reaches the table."""
    path = _store(folder / "r.db", label=label)
    _store(path, label="plain")
    return kb("report", "--results", str(path), "--all")


def _file(folder: Path, name: str, content: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _cifar(folder: Path, raw: bytes) -> list[str]:
    _file(folder, "cifar/cifar-10-batches-py/data_batch_1", raw)
    return reader("cifar", folder / "cifar")


def _tall_png(folder: Path) -> list[str]:
    from PIL import Image

    Image.new("RGB", (1, 2000)).save(folder / "tall.png", optimize=True)
    return reader("image", folder / "tall.png")


def _pixel_bomb(folder: Path) -> list[str]:
    from PIL import Image

    Image.new("1", (20000, 20000)).save(folder / "bomb.png")
    return reader("image", folder / "bomb.png")


def _big_text(folder: Path) -> list[str]:
    with open(folder / "big.txt", "wb") as f:
        f.truncate(100 << 20)  # sparse: 100 MiB of NUL characters
    return reader("text", folder / "big.txt")


def _fifo(folder: Path, kind: str) -> list[str]:
    if kind == "cifar":
        (folder / "cifar-10-batches-py").mkdir()
        os.mkfifo(folder / "cifar-10-batches-py" / "data_batch_1")
        return reader("cifar", folder)
    os.mkfifo(folder / "fifo.txt")
    return reader("text", folder / "fifo.txt")


SHADOW = '[defaults]\nlabel = "SHADOWED"\nnum_hosts = 2\ncoordinator = "0.0.0.0:29500"\n'

CASES = [
    store_case(
        "store: results view over an endless query",
        "ALTER TABLE results RENAME TO old",
        f"CREATE VIEW results AS SELECT * FROM old, ({ENDLESS})",
    ),
    store_case(
        "store: trigger rewriting saved results",
        "CREATE TRIGGER t AFTER INSERT ON results BEGIN UPDATE results SET label = 'x'; END",
    ),
    store_case("store: extra table", "CREATE TABLE extra (x)"),
    store_case("store: record_json not JSON", "UPDATE results SET record_json = 'nope{'"),
    store_case("store: record lacks fields", "UPDATE results SET record_json = '{}'"),
    store_case(
        "store: record with wrong types",
        f"UPDATE results SET record_json = '{_record({'batch_size': 'big'})}'",
    ),
    store_case(
        "store: string window times",
        f"UPDATE results SET record_json = '{_record({'window_times_s': ['a', 'b']})}'",
    ),
    store_case("store: damaged run row", "UPDATE runs SET host_json = 'x', started_at = 5"),
    store_case("store: newer schema", "PRAGMA user_version = 99"),
    Case("store: a text file", lambda d: kb("report", "--results", str(_file(d, "r.db", "hi\n")))),
    Case(
        "store: path through a file",
        lambda d: kb("report", "--results", str(_file(d, "afile", "x") / "r.db")),
    ),
    Case(
        "run: --results through a file",
        lambda d: kb("run", "--models", "mnist_mlp", "--results", str(_file(d, "f", "x") / "r.db")),
    ),
    Case("compare: JSON [1]", lambda d: _export(d, [1])),
    Case("compare: JSON not a list", lambda d: _export(d, {"a": 1})),
    Case("compare: binary garbage", lambda d: _export(d, None, "\x00\xff" * 50)),
    Case(
        "compare: string windows",
        lambda d: _export(d, [{**make_result(1.0).to_dict(), "window_times_s": "abc"}]),
    ),
    Case(
        "compare: zero windows",
        lambda d: _export(d, [{**make_result(1.0).to_dict(), "window_times_s": [0, 0, 0]}]),
    ),
    Case(
        "compare: NaN windows",
        lambda d: _export(
            d,
            None,
            json.dumps([make_result(1.0).to_dict()]).replace(
                '"window_times_s": [', '"window_times_s": [NaN, NaN, ', 1
            ),
        ),
    ),
    Case(
        "report: label '[/]' (markup)",
        lambda d: _labelled(d, "[/]"),
        expect="ok",
        check=lambda out: "[/]" in out,
    ),
    Case(
        "report: label with terminal escapes",
        lambda d: _labelled(d, "x\x1b]0;pwned\x07\x1b[2J"),
        expect="ok",
        check=lambda out: "\x1b]0;" not in out,
    ),
    Case(
        "suite: file named 'quick' shadows the built-in",
        lambda d: (_file(d, "quick", SHADOW), kb("run", "--suite", "quick", "--dry-run"))[1],
        expect="ok",
        check=lambda out: "SHADOWED" not in out,
    ),
    Case(
        "suite: repeats = 100,000,000",
        lambda d: kb(
            "run",
            "--dry-run",
            "--suite",
            str(
                _file(
                    d,
                    "s.toml",
                    ('[defaults]\nrepeats = 100000000\n[[matrix]]\nmodel = "mnist_mlp"\n'),
                )
            ),
        ),
    ),
    Case(
        "suite: not TOML",
        lambda d: kb("run", "--dry-run", "--suite", str(_file(d, "s.toml", b"\x00[[[\xff"))),
    ),
    Case(
        "run: --data-path ~nosuchuser/x",
        lambda d: kb(
            "run",
            "--dry-run",
            "--models",
            "cifar10_cnn",
            "--dataset",
            "cifar10",
            "--data-path",
            "~nosuchuser/x",
        ),
    ),
    Case("cifar: object dtype over file bytes", lambda d: _cifar(d, fx.forged_object_pickle())),
    Case(
        "cifar: tiny file claiming 200,000 images",
        lambda d: _cifar(d, fx.claims_more_than_it_holds()),
    ),
    Case("cifar: calls numpy.ndarray directly", lambda d: _cifar(d, fx.direct_ndarray_pickle())),
    Case("cifar: pickle that runs code", lambda d: _cifar(d, b"cos\nsystem\n(S'touch pwned'\ntR.")),
    Case("cifar: FIFO as a batch", lambda d: _fifo(d, "cifar")),
    Case("image: 85-byte 1x2000 PNG", _tall_png, expect="ok"),
    Case("image: 400-Mpx PNG bomb", _pixel_bomb),
    Case("text: 100 MiB file", _big_text),
    Case("text: FIFO", lambda d: _fifo(d, "text")),
    Case(
        "text: 30,000 distinct characters",
        lambda d: reader(
            "text", _file(d, "w.txt", "".join(map(chr, range(0x4E00, 0x4E00 + 30000))))
        ),
    ),
]


def _limits(memory: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def run_case(case: Case, timeout: float, memory: int) -> tuple[str, str]:
    """(outcome, detail) of one case; outcome "refused"/"ok" or how it misbehaved."""
    with tempfile.TemporaryDirectory(prefix="kb-hostile-") as tmp:
        folder = Path(tmp)
        for name in ("home", "tmp"):
            (folder / name).mkdir()
        argv = case.make(folder)
        before = _tree(folder)
        env = {**os.environ, "HOME": str(folder / "home"), "TMPDIR": str(folder / "tmp")}
        env["PYTHONPATH"] = str(ROOT)
        env.pop("KERASBENCH_RESULTS", None)
        try:
            done = subprocess.run(
                argv,
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                preexec_fn=_limits(memory),
            )
        except subprocess.TimeoutExpired:
            return "HANG", f"no answer in {timeout:g} s"
        written = sorted(_tree(folder) - before - set(case.outputs))
        err = done.stderr.strip()
        first = err.splitlines()[0][:110] if err else ""
        if done.returncode < 0 or done.returncode in (134, 139):
            return "CRASH", f"exit {done.returncode} {first}"
        if "Traceback" in err:
            return "TRACEBACK", err.splitlines()[-1][:110]
        if written:
            return "WROTE", f"created {', '.join(written[:3])}"
        if done.returncode == 0:
            if case.check is not None and not case.check(done.stdout):
                return "WRONG", "exit 0 but the output fails the case's check"
            return "ok", first or done.stdout.strip().splitlines()[-1][
                :110
            ] if done.stdout.strip() else ""
        if len(err.splitlines()) != 1:
            return "LINES", f"{len(err.splitlines())} stderr lines, exit {done.returncode}"
        if done.returncode == 1:
            return "EXIT1", first  # 1 means "a point failed" or "a regression", not bad input
        return "refused", first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--memory-mib", type=int, default=2048)
    args = parser.parse_args()
    bad = 0
    rows = []
    for case in CASES:
        if args.only.lower() not in case.name.lower():
            continue
        outcome, detail = run_case(case, args.timeout, args.memory_mib << 20)
        good = outcome == case.expect
        bad += not good
        rows.append((case.name, case.expect, outcome if good else f"{outcome} (BAD)", detail))
        print(f"{rows[-1][0]:<46} {rows[-1][1]:<8} {rows[-1][2]:<16} {detail}", flush=True)
    print(f"\n{len(rows) - bad}/{len(rows)} cases as expected; {bad} misbehaved")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
