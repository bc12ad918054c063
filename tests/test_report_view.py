"""The one report view (rows, varying fields, labels, backend order) and the formats built on it."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

from factories import make_result
from rich.console import Console

from kerasbench.report import formats
from kerasbench.report.table import render_table
from kerasbench.report.view import build_view, cell_text
from kerasbench.result import Result


def ok(backend: str, speed: float, mode: str = "fit", **kw: object) -> Result:
    kw.setdefault("n", 8)
    return make_result(speed, backend=backend, mode=mode, batch_size=100, **kw)


def skipped(backend: str) -> Result:
    return make_result(
        backend=backend, mode="fit", batch_size=100, status="skipped",
        raw={"error": "backend openvino is inference-only"},
    )  # fmt: skip


RESULTS = [ok("jax", 2000.0), ok("torch", 1000.0), skipped("openvino"), ok("jax", 50.0, "predict")]


def _text(table: object) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def test_view_rows_backends_and_fastest() -> None:
    view = build_view(RESULTS)
    assert view.backends == ["jax", "torch", "openvino"]
    assert view.headers == ("model", "mode", "batch")
    fit, predict = view.rows
    assert fit.config == ("mnist_mlp", "fit", "100")
    assert fit.fastest == "jax"
    assert cell_text(fit.cells["jax"]) == "2,000.0 ±0.0%"
    assert cell_text(fit.cells["openvino"]) == "skipped"
    assert predict.fastest is None  # alone in its row: nothing to beat
    assert view.notes == ["mnist_mlp fit on openvino: skipped: backend openvino is inference-only"]
    # charts label a row in words, leaving out what the model's rows share
    assert [row.label for row in view.rows] == ["fit", "predict"]


def test_rows_that_count_different_things_get_a_unit_column() -> None:
    # mnist_mlp counts samples, cifar10_cnn images: one title cannot name both units,
    # and a model without images shows "-" as its size, not 0.
    cnn = make_result(300.0, model="cifar10_cnn", backend="jax", batch_size=100, n=8)
    view = build_view([ok("jax", 2000.0), cnn])
    assert view.unit is None
    assert view.headers == ("model", "mode", "batch", "size", "unit")
    assert [row.config[-2:] for row in view.rows] == [("-", "samples/s"), ("32", "images/s")]
    assert build_view(RESULTS).unit == "samples/s"
    assert "samples/s (median ±95% CI)" in _text(render_table(RESULTS))


def test_points_of_several_hosts_or_device_kinds_are_rows_of_their_own() -> None:
    # Different work (point key) never shares a row: hosts and requested device kinds count.
    one, two = ok("jax", 1000.0), replace(ok("jax", 1900.0), num_hosts=2)
    cpu, gpu = ok("torch", 500.0), ok("torch", 900.0, device_kind="gpu")
    view = build_view([one, two, cpu, gpu])
    assert view.headers == ("model", "mode", "batch", "dev", "kind")
    assert [row.config for row in view.rows] == [
        ("mnist_mlp", "fit", "100", "1", "auto"),
        ("mnist_mlp", "fit", "100", "2×1", "auto"),
        ("mnist_mlp", "fit", "100", "1", "gpu"),
    ]
    assert [list(row.cells) for row in view.rows] == [["jax", "torch"], ["jax"], ["torch"]]
    assert [row.label for row in view.rows] == [
        "fit, 1 dev, auto",
        "fit, 2 dev, auto",
        "fit, 1 dev, gpu",
    ]


def test_points_of_several_environments_are_rows_of_their_own() -> None:
    # run --env k311,k315: the same point in two named environments is two rows, not one
    # cell where the last environment wins.
    old, new = replace(ok("jax", 1000.0), env="k311"), replace(ok("jax", 900.0), env="k315")
    view = build_view([old, new])
    assert view.headers == ("model", "mode", "batch", "env")
    assert [row.config[-1] for row in view.rows] == ["k311", "k315"]
    assert [row.cells["jax"].samples_per_sec for row in view.rows] == [1000.0, 900.0]
    assert build_view([ok("jax", 1000.0)]).headers == ("model", "mode", "batch")


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
    text = _text(render_table(RESULTS))
    assert "★ 2,000.0" in text and "skipped" in text and "openvino" in text
