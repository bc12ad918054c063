"""Serving results in reports: the latency table, the latency-vs-rate chart, compare on p99."""

from __future__ import annotations

import random

from factories import make_result

from kerasbench.report import formats, plots
from kerasbench.report.latency import latency_markdown, latency_rows, latency_table
from kerasbench.report.verdicts import IMPROVEMENT, NO_CHANGE, REGRESSION, compare, format_lines
from kerasbench.serving.percentiles import latency_percentiles, percentiles_ms


def _latencies(n: int, median_s: float, tail_s: float, seed: int) -> list[float]:
    """Mostly ``median_s`` with 3% of requests near ``tail_s``: a p99 set by the tail."""
    rng = random.Random(seed)
    return [
        (tail_s if rng.random() < 0.03 else median_s) * rng.uniform(0.95, 1.05) for _ in range(n)
    ]


def serving_result(latencies: list[float], **kw) -> object:
    """A serving Result as the worker's record makes it (percentiles of ``latencies``)."""
    p = percentiles_ms(latency_percentiles(latencies, resamples=200))
    raw = {
        "window_times_s": latencies,
        "n_requests": len(latencies),
        "runtime_variant": "test",
        "floor_p50_ms": 0.0001,
        "floor_max_qps": 1e6,
        **{f"{q}_ms": p[f"{q}_ms"] for q in ("p50", "p90", "p99")},
        **{
            f"{q}_ci_ms": [p[f"{q}_ci_low_ms"], p[f"{q}_ci_high_ms"]] for q in ("p50", "p90", "p99")
        },
        "max_latency_ms": p["max_ms"],
        **kw.pop("raw", {}),
    }
    kw.setdefault("mode", "latency")
    return make_result(raw=raw, **kw)


def test_compare_flags_a_p99_regression_with_an_unchanged_median() -> None:
    base = [serving_result(_latencies(2000, 0.010, 0.020, 1))]
    new = [serving_result(_latencies(2000, 0.010, 0.040, 2))]
    (point,) = compare(base, new, threshold=0.05).points
    assert point.verdict == REGRESSION
    assert point.p99_ratio > 1.5 and point.p99_ratio_ci[0] > 1
    assert 0.95 < point.ratio < 1.05  # the median (throughput) alone says no change
    assert any("p99 new/base" in line for line in format_lines(compare(base, new)))


def test_compare_p99_gate_needs_significance_and_size() -> None:
    same = [serving_result(_latencies(2000, 0.010, 0.020, 3))]
    again = [serving_result(_latencies(2000, 0.010, 0.020, 4))]
    assert compare(same, again).points[0].verdict == NO_CHANGE
    faster = [serving_result(_latencies(2000, 0.010, 0.012, 5))]
    assert compare(same, faster).points[0].verdict == IMPROVEMENT
    # too few requests for the tail to be known: the CI spans 1, no verdict from p99
    few_base = [serving_result(_latencies(8, 0.010, 0.020, 6))]
    few_new = [serving_result(_latencies(8, 0.010, 0.021, 7))]
    point = compare(few_base, few_new).points[0]
    assert point.verdict != REGRESSION


def test_compare_leaves_other_modes_without_a_p99() -> None:
    (point,) = compare([make_result(1000.0, n=8)], [make_result(1000.0, n=8)]).points
    assert point.p99_ratio is None


def test_latency_table_rows_per_runtime_and_backend() -> None:
    results = [
        serving_result(_latencies(200, 0.002, 0.004, 8), backend="jax"),
        serving_result(
            _latencies(200, 0.001, 0.002, 9),
            backend="tensorflow",
            runtime="onnx",
            raw={"export_s": 1.5, "artifact_bytes": 1000},
        ),  # fmt: skip
        make_result(
            status="skipped",
            mode="latency",
            runtime="litert",
            backend="torch",
            raw={"error": "litert: no exporter"},
        ),  # fmt: skip
        make_result(1000.0, mode="predict"),  # not a serving point: not in the table
    ]
    rows = latency_rows(results)
    assert [(r.cells[4], r.cells[5]) for r in rows] == [
        ("keras", "jax"),
        ("litert", "torch"),
        ("onnx", "tensorflow"),
    ]
    onnx = rows[2].cells
    assert 0.9 < float(onnx[6].split()[0]) < 1.1 and onnx[11] == "1.5"
    assert onnx[3] == "single stream"
    assert rows[1].cells[6] == "skipped"
    md = latency_markdown(results)
    assert "| p50 ms |" in md and "litert: no exporter" in md
    assert latency_table(results) is not None and latency_table(results[3:]) is None
    assert "p99 ms" in formats.markdown(results) and latency_markdown(results[3:]) == ""


def test_latency_rate_chart_per_model_from_server_points() -> None:
    results = [
        serving_result(
            _latencies(200, 0.002, 0.004, s),
            mode="server",
            qps=q,
            raw={"achieved_qps": q * 0.98, "n_dropped": 0},
        )  # fmt: skip
        for s, q in enumerate((10.0, 50.0, 100.0))
    ]
    peak = serving_result(
        _latencies(200, 0.002, 0.004, 9), mode="server", find_peak=True, p99_bound_ms=5.0,
        raw={"achieved_qps": 80.0, "peak_qps": 80.0, "settings": {"serving_peak_trials": [
            {"qps": 40.0, "p99_ms": 3.0, "ok": True}, {"qps": 160.0, "p99_ms": 9.0, "ok": False}]}},
    )  # fmt: skip
    names = [c.name for c in plots.build_charts([*results, peak])]
    assert "latency-rate-mnist_mlp" in names
    offline = plots.build_charts([make_result(1000.0, mode="predict")])
    assert not [c for c in offline if c.name.startswith("latency-rate")]
    assert peak.samples_per_sec == 80.0 and peak.throughput_unit == "requests/s"
