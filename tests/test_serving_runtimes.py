"""Each serving runtime's export-and-check on a tiny Keras model, one subprocess per backend.

Keras picks its backend at import, so each backend's work runs in a child
process with KERAS_BACKEND set; the child prints one JSON line per runtime.
A runtime either serves outputs that match Keras (within the float32
tolerance) or is skipped with the exporter's one-line reason; a mismatch or a
crash fails the test. The child also checks that a wrong artifact is caught,
and runs both scenarios on the Keras runtime end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import backend_params

from kerasbench.serving.export import Skip, artifact_bytes, first_line
from kerasbench.serving.runtimes import RUNTIMES, TOLERANCE, OutputMismatch, compare

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, tempfile
import numpy as np
import keras
from kerasbench.serving import export as ex
from kerasbench.serving.runtimes import RUNTIMES, OutputMismatch, prepare
from kerasbench.serving.export import Skip
from kerasbench.serving.scenarios import latency, server

keras.utils.set_random_seed(0)
inp = keras.Input((8,))
hidden = keras.layers.Dense(16, activation="relu")(inp)
model = keras.Model(inp, keras.layers.Dense(4, activation="softmax")(hidden))
rng = np.random.default_rng(0)
batches = {k: rng.standard_normal((k, 8)).astype("float32") for k in (1, 3)}
work = tempfile.mkdtemp()

def emit(**row):
    print("ROW " + json.dumps(row), flush=True)

for name in RUNTIMES:
    try:
        emit(status="ok", **prepare(model, name, batches, work).record())
    except Skip as e:
        emit(runtime=name, status="skipped", reason=str(e))
    except OutputMismatch as e:
        emit(runtime=name, status="mismatch", reason=str(e))

# A wrong artifact must be caught: the first exportable runtime, outputs nudged.
for name in RUNTIMES[1:]:
    loader = ex.LOADERS[name]
    def nudged(path, precision, loader=loader):
        predict, description = loader(path, precision)
        return (lambda x: [o + 0.05 for o in predict(x)]), description
    ex.LOADERS[name] = nudged
    try:
        prepare(model, name, batches, tempfile.mkdtemp())
        emit(runtime=name, status="sabotage_unnoticed")
        break
    except OutputMismatch as e:
        emit(runtime=name, status="sabotage_caught", reason=str(e))
        break
    except Skip:
        continue
    finally:
        ex.LOADERS[name] = loader

rt = prepare(model, "keras", batches, work)
lat = latency(rt.predict, batches[1], min_requests=20, min_time_s=0, resamples=100)
srv = server(rt.predict, lambda n: np.zeros((n, 8), "float32"), qps=50, duration_s=0.5,
             min_requests=20, max_batch=3, batch_timeout_ms=2, resamples=100)
emit(runtime="keras", status="scenarios", latency=lat, server=srv)
"""

_cache: dict[str, subprocess.CompletedProcess[str]] = {}


def rows(backend: str) -> list[dict]:
    """The child's rows for ``backend`` (one child per backend per session, even if it failed)."""
    if backend not in _cache:
        env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(ROOT))
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
        _cache[backend] = subprocess.run(
            [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=900
        )
    proc = _cache[backend]
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(ln[4:]) for ln in proc.stdout.splitlines() if ln.startswith("ROW ")]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("backend", backend_params())
def test_runtime_matches_keras_or_says_why_not(backend: str, runtime: str) -> None:
    verdicts = ("ok", "skipped", "mismatch")
    (row,) = [r for r in rows(backend) if r["runtime"] == runtime and r["status"] in verdicts]
    assert row["status"] != "mismatch", row["reason"]
    if row["status"] == "skipped":
        assert row["reason"].startswith(runtime) and "\n" not in row["reason"]
        pytest.skip(row["reason"])
    assert row["max_rel_error"] <= TOLERANCE["float32"]
    assert row["runtime_variant"]
    if runtime == "keras":
        assert row["export_s"] is None
    else:
        assert row["export_s"] > 0 and row["artifact_bytes"] > 0


@pytest.mark.parametrize("backend", backend_params())
def test_keras_runtime_always_serves_and_a_wrong_export_is_caught(backend: str) -> None:
    by_status = {r["status"]: r for r in rows(backend)}
    assert "sabotage_unnoticed" not in by_status
    ok = [r["runtime"] for r in rows(backend) if r["status"] == "ok"]
    assert "keras" in ok
    if len(ok) > 1:  # some export works here, so the nudged one must have been caught
        assert "differs from Keras" in by_status["sabotage_caught"]["reason"]


@pytest.mark.parametrize("backend", backend_params())
def test_scenarios_run_on_the_keras_runtime(backend: str) -> None:
    (row,) = [r for r in rows(backend) if r["status"] == "scenarios"]
    lat, srv = row["latency"], row["server"]
    assert lat["n_requests"] >= 20 and 0 < lat["p50_ms"] <= lat["p99_ms"] <= lat["max_ms"]
    assert srv["n_completed"] + srv["n_dropped"] == srv["n_scheduled"] >= 20
    assert 1 <= srv["mean_batch"] <= 3


# --- in-process parts that need no backend ---------------------------------------


def test_compare_measures_relative_error_and_rejects_wrong_outputs() -> None:
    want = [np.array([[1.0, -2.0]], dtype=np.float32)]
    assert compare("x", [want[0] + 1e-5], want, 1e-3) == pytest.approx(5e-6, rel=1e-2)
    with pytest.raises(OutputMismatch, match="differs from Keras"):
        compare("x", [want[0] + 0.1], want, 1e-3)
    with pytest.raises(OutputMismatch, match="shape"):
        compare("x", [want[0].T], want, 1e-3)
    with pytest.raises(OutputMismatch, match="outputs"):
        compare("x", [], want, 1e-3)
    with pytest.raises(OutputMismatch):
        compare("x", [want[0] * np.nan], want, 1e-3)


def test_first_line_and_artifact_size(tmp_path: Path) -> None:
    assert first_line(ValueError("\n  bad thing\nmore")) == "ValueError: bad thing"
    assert first_line(Skip()) == "Skip"
    assert (
        first_line(RuntimeError("failed at x:\nop Foo\nlog")) == "RuntimeError: failed at x: op Foo"
    )
    (tmp_path / "m.xml").write_bytes(b"x" * 10)
    (tmp_path / "m.bin").write_bytes(b"x" * 5)
    assert artifact_bytes(tmp_path / "m.xml") == 15
    (tmp_path / "sm" / "v").mkdir(parents=True)
    (tmp_path / "sm" / "v" / "w").write_bytes(b"x" * 7)
    assert artifact_bytes(tmp_path / "sm") == 7
