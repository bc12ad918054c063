"""The Keras-overhead view: which rows pair up, the ratio and its CI, and every format."""

from __future__ import annotations

import json

import pytest
from factories import make_result

from kerasbench.report import formats, overhead
from kerasbench.report.files import render_text
from kerasbench.report.html import render_html
from kerasbench.report.select import Selection
from kerasbench.stats.twosample import throughput_ratio_ci


def _pair(keras: float, native: float, **kw: object) -> list:
    """A Keras torch point and its torch-native baseline, 10 windows each, 2% noise."""
    common = {"model": "mnist_mlp", "mode": "fit", "n": 10, "sd": 0.02, **kw}
    return [
        make_result(keras, backend="torch", seed=1, **common),
        make_result(native, backend="torch-native", seed=2, **common),
    ]


def test_a_pair_gives_keras_over_native_with_the_two_sample_ci() -> None:
    results = _pair(800.0, 1000.0)
    (row,) = overhead.overhead_rows(results)
    keras, native = results
    assert (row.framework, row.keras_backend, row.native_backend) == ("torch",) + (
        "torch",
        "torch-native",
    )
    assert row.ratio == pytest.approx(keras.samples_per_sec / native.samples_per_sec)
    assert row.ratio == pytest.approx(0.8, rel=0.05)
    steps = [[w / r.window_steps for w in r.window_times_s] for r in (native, keras)]
    _, low, high = throughput_ratio_ci(*steps)
    assert row.ci == (low, high) and low < row.ratio < high


def test_rows_pair_only_on_the_same_configuration() -> None:
    results = [
        *_pair(800.0, 1000.0),
        make_result(900.0, backend="torch-native", model="mnist_mlp", mode="fit", batch_size=64),
        make_result(900.0, backend="torch-native", model="mnist_mlp", mode="predict", n=10),
        make_result(
            900.0, backend="torch-native", model="mnist_mlp", mode="fit", precision="mixed_bfloat16"
        ),
        make_result(700.0, backend="jax", model="mnist_mlp", mode="fit", n=10),  # no jax-native
    ]
    rows = overhead.overhead_rows(results)
    assert [(r.framework, r.mode, r.native.batch_size, r.native.precision) for r in rows] == [
        ("torch", "fit", 128, "float32")
    ]


def test_compile_settings_differ_within_a_pair_and_are_named() -> None:
    results = [
        *_pair(800.0, 1000.0),
        make_result(1200.0, backend="torch-native", compile="default", mode="fit", n=10),
        make_result(850.0, backend="torch", jit_compile="on", mode="fit", n=10),
    ]
    rows = overhead.overhead_rows(results)
    named = sorted((r.keras_jit, r.native_compile) for r in rows)
    assert named == [("auto", "auto"), ("auto", "default"), ("on", "auto"), ("on", "default")]


def test_too_few_windows_give_a_ratio_without_ci_and_failures_no_ratio() -> None:
    few = [
        make_result(800.0, backend="jax", n=3),
        make_result(1000.0, backend="jax-native", n=3),
    ]
    (row,) = overhead.overhead_rows(few)
    assert row.ratio == pytest.approx(0.8) and row.ci is None
    assert "under 6 windows" in overhead.ratio_text(row)[1]
    failed = [
        make_result(800.0, backend="jax", n=10),
        make_result(status="failed", backend="jax-native", raw={"error": "boom"}),
    ]
    (row,) = overhead.overhead_rows(failed)
    assert row.ratio is None and overhead.ratio_text(row) == ("failed", "")


def test_no_pairs_no_section() -> None:
    results = [make_result(800.0, backend="torch", n=10), make_result(900.0, backend="jax", n=10)]
    assert overhead.overhead_rows(results) == []
    assert "Keras overhead" not in formats.markdown(results)
    assert "Keras overhead" not in render_html(Selection(results))


def test_every_format_shows_the_overhead() -> None:
    results = _pair(800.0, 1000.0)
    rows = overhead.overhead_rows(results)
    assert "### Keras overhead" in formats.markdown(results)
    assert "Keras overhead" in render_text("table", results)
    record = json.loads(overhead.overhead_json(rows))[0]
    assert record["native_backend"] == "torch-native" and record["ci_low"] < record["ratio"]
    csv_text = overhead.overhead_csv(rows)
    assert csv_text.splitlines()[0].startswith("model,mode,config,framework")
    page = render_html(Selection(results))
    assert "id='overhead'" in page and 'id="chart-keras-overhead"' in page
