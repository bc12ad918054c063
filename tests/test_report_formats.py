"""Report filters and text formats (Markdown, CSV, JSON) from a store, and the CLI's files."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from report_data import (
    BASE,
    CURRENT,
    EVIL_ERROR,
    EVIL_LABEL,
    chart_named,
    make,
    make_store,
    select_from,
)

from kerasbench.report import formats
from kerasbench.report.select import parse_since, since_filter


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("store") / "results.db")


# --- filters ---------------------------------------------------------------------


def test_parse_since_reads_dates_times_and_zones() -> None:
    assert parse_since("2026-11-28").isoformat() == "2026-11-28T00:00:00+00:00"
    assert parse_since("2026-11-28T12:30Z").isoformat() == "2026-11-28T12:30:00+00:00"
    assert parse_since("2026-11-28T12:30+02:00").utcoffset().total_seconds() == 7200
    with pytest.raises(ValueError, match="yesterday"):
        parse_since("yesterday")


def test_since_keeps_results_at_or_after_it() -> None:
    old = make("mnist_mlp", "jax", 1.0, started_at="2026-11-01T00:00:00+00:00")
    new = make("mnist_mlp", "jax", 2.0, started_at="2026-11-28T12:00:00+00:00")
    undated = make("mnist_mlp", "jax", 3.0, started_at=None)
    kept = since_filter([old, new, undated], parse_since("2026-11-28T12:00:00Z"))
    assert kept == [new]


def test_select_applies_filters_and_keeps_baseline_apart(store_path: Path) -> None:
    everything = select_from(store_path)
    assert len(everything.results) == len(CURRENT) + len(BASE)
    only = select_from(
        store_path, models=["mnist_mlp"], backends=["jax"], since=parse_since("2026-11-28")
    )
    assert [(r.model, r.backend, r.label) for r in only.results] == [
        ("mnist_mlp", "jax", EVIL_LABEL)
    ]
    compared = select_from(store_path, compare="base")
    assert len(compared.results) == len(CURRENT)
    assert {r.label for r in compared.base} == {"base"}
    assert {run.run_id for run in compared.runs} == {"run0", "run1"}


# --- text formats ------------------------------------------------------------------


def _markdown_table(text: str, header_start: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_markdown_has_the_seed_shape_and_the_grid(store_path: Path) -> None:
    results = select_from(store_path, label=EVIL_LABEL).results
    text = formats.markdown(results)
    seed = _markdown_table(text, "| host")
    assert seed[0] == [
        "host",
        "devices",
        "model",
        "mode",
        "backend",
        "batch size",
        "data format",
        "speed (per s)",  # images (cifar10_cnn) and samples (mnist_mlp): units in the cells
    ]
    body = seed[2:]
    assert len(body) == len(CURRENT)
    by_point = {(row[2], row[4], row[1]): row for row in body}
    # 1000 samples/s, CI 970..1020: half-width 25
    assert by_point[("cifar10_cnn", "tensorflow", "1 × CPU")][-1] == "1,000.0 ± 25.0 images/s"
    assert by_point[("cifar10_cnn", "jax", "2 × CPU")][-1] == "700.0 ± 17.5 images/s"
    assert by_point[("mnist_mlp", "jax", "1 × CPU")][-1] == "20,000.0 ± 500.0 samples/s"
    assert by_point[("cifar10_cnn", "torch", "1 × AUTO")][-1] == "failed"
    assert by_point[("cifar10_cnn", "openvino", "1 × AUTO")][-1] == "skipped"
    assert by_point[("mnist_mlp", "jax", "1 × CPU")][5] == "128"
    # hostile strings are entities, not HTML, in Markdown too
    assert body[0][0] == "host&lt;b&gt;bold&lt;/b&gt;&amp;co"
    assert "<script>" not in text and "<img" not in text
    # the comparison grid, fastest bold
    grid = _markdown_table(text, "| model")
    assert grid[0][-4:] == ["jax", "tensorflow", "torch", "openvino"]
    tf_row = next(row for row in grid[2:] if row[2] == "32")
    assert tf_row[-3].startswith("**1,000.0")


def test_markdown_of_image_models_says_images_per_second(store_path: Path) -> None:
    results = select_from(store_path, models=["cifar10_cnn"], label=EVIL_LABEL).results
    assert _markdown_table(formats.markdown(results), "| host")[0][-1] == "speed (images/s)"
    generate = make("gpt_small", "jax", 50.0, mode="generate", throughput_unit="tokens/s")
    table = _markdown_table(formats.markdown([generate]), "| host")
    assert table[0][-1] == "speed (tokens/s)"
    assert chart_named([generate], "throughput-gpt_small").figure.axes[0].get_ylabel() == (
        "throughput (tokens/s)"
    )


def test_csv_and_json_hold_every_record(store_path: Path) -> None:
    results = select_from(store_path, label=EVIL_LABEL).results
    rows = list(csv.DictReader(io.StringIO(formats.csv_records(results))))
    assert len(rows) == len(CURRENT)
    tf = next(r for r in rows if r["backend"] == "tensorflow" and r["devices"] == "1")
    assert float(tf["samples_per_sec"]) == 1000.0
    assert json.loads(tf["samples_per_sec_ci"]) == [970.0, 1020.0]
    assert rows[2]["error"] == EVIL_ERROR
    records = json.loads(formats.json_records(results))
    assert [r["backend"] for r in records] == [r.backend for r in CURRENT]


# --- command line -----------------------------------------------------------------


def test_cli_writes_every_format(kerasbench, store_path: Path, tmp_path: Path) -> None:
    db = str(store_path)
    # one small model keeps the drawing short; the page's content is checked above
    only = ("--models", "mnist_mlp")
    proc = kerasbench(
        "report", "--results", db, "--format", "html", "--out", "r/report.html", *only
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r" / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE")
    proc = kerasbench(
        "report", "--results", db, "--format", "png", "--out", "png", "--compare", "base", *only
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [
        "comparison-vs-base.png",
        "peak-memory.png",
        "step-time-mnist_mlp.png",
        "throughput-mnist_mlp.png",
        "time-to-first-step.png",
    ]
    proc = kerasbench("report", "--results", db, "--format", "csv", "--since", "2026-11-28")
    assert proc.returncode == 0, proc.stderr
    assert len(list(csv.DictReader(io.StringIO(proc.stdout)))) == len(CURRENT)
    proc = kerasbench("report", "--results", db, "--since", "last tuesday")
    assert proc.returncode == 2 and "--since" in proc.stderr
    proc = kerasbench("report", "--results", db, "--format", "html", "--label", "nothing")
    assert proc.returncode == 2 and "no results match" in proc.stderr
