"""The comparison grid and its text formats."""

from __future__ import annotations

import csv
import io
import json

from rich.console import Console

from kerasbench.report import formats
from kerasbench.report.grid import build_grid
from kerasbench.report.table import render_table
from kerasbench.result import Result
from kerasbench.spec import Spec


def ok(backend: str, speed: float, mode: str = "fit") -> Result:
    spec = Spec(model="mnist_mlp", backend=backend, mode=mode, batch_size=100).resolved()
    window = spec.batch_size * spec.window_steps / speed
    return Result.from_worker(spec, {"status": "ok", "window_times_s": [window] * 4})


def skipped(backend: str) -> Result:
    spec = Spec(model="mnist_mlp", backend=backend, mode="fit", batch_size=100).resolved()
    return Result.from_spec(spec, "skipped", "backend openvino is inference-only")


RESULTS = [ok("jax", 2000.0), ok("torch", 1000.0), skipped("openvino"), ok("jax", 50.0, "predict")]


def test_grid_rows_backends_and_fastest() -> None:
    grid = build_grid(RESULTS)
    assert grid.backends == ["jax", "torch", "openvino"]
    assert grid.headers == ("model", "mode", "batch")
    fit, predict = grid.rows
    assert fit.config == ("mnist_mlp", "fit", "100")
    assert fit.cells["jax"].fastest and not fit.cells["torch"].fastest
    assert fit.cells["jax"].text() == "2,000.0 ±0.0%"
    assert fit.cells["openvino"].text() == "skipped"
    assert not predict.cells["jax"].fastest  # alone in its row: nothing to beat
    assert grid.notes == ["mnist_mlp fit on openvino: skipped: backend openvino is inference-only"]


def test_rows_that_count_different_things_get_a_unit_column() -> None:
    # mnist_mlp counts samples, cifar10_cnn images: one title cannot name both units,
    # and a model without images shows "-" as its size, not 0.
    spec = Spec(model="cifar10_cnn", backend="jax", mode="fit", batch_size=100).resolved()
    window = spec.batch_size * spec.window_steps / 300.0
    cnn = Result.from_worker(spec, {"status": "ok", "window_times_s": [window] * 4})
    grid = build_grid([ok("jax", 2000.0), cnn])
    assert grid.unit is None
    assert grid.headers == ("model", "mode", "batch", "size", "unit")
    assert [row.config[-2:] for row in grid.rows] == [("-", "samples/s"), ("32", "images/s")]
    assert build_grid(RESULTS).unit == "samples/s"
    console = Console(width=200, record=True)
    console.print(render_table(RESULTS))
    assert "samples/s (median ±95% CI)" in console.export_text()


def test_markdown_marks_the_fastest_in_bold() -> None:
    text = formats.markdown(RESULTS)
    lines = text.splitlines()
    assert lines[0] == "| model | mode | batch | jax | torch | openvino |"
    assert lines[2] == "| mnist_mlp | fit | 100 | **2,000.0 ±0.0%** | 1,000.0 ±0.0% | skipped |"
    assert "- mnist_mlp fit on openvino: skipped" in text


def test_json_and_csv_have_one_record_per_point() -> None:
    records = json.loads(formats.json_records(RESULTS))
    assert len(records) == 4
    assert records[0]["samples_per_sec"] == 2000.0
    rows = list(csv.DictReader(io.StringIO(formats.csv_records(RESULTS))))
    assert [r["backend"] for r in rows] == ["jax", "torch", "openvino", "jax"]
    assert json.loads(rows[0]["window_times_s"]) == records[0]["window_times_s"]


def test_rich_table_renders_every_backend() -> None:
    console = Console(width=200, record=True)
    console.print(render_table(RESULTS))
    text = console.export_text()
    assert "★ 2,000.0" in text and "skipped" in text and "openvino" in text
