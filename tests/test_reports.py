"""Report formats (Markdown, CSV, JSON, HTML, PNG) checked against a small store built here.

No worker runs: results are written with ``Store.save``, so these tests take
seconds. The store holds two models, four backends, a failed and a skipped
point, two device counts (for the scaling chart), a baseline label (for the
comparison), and hostile strings in labels, hostnames and error messages.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from kerasbench.report import formats, plots
from kerasbench.report.baseline import compare_results
from kerasbench.report.html import DETAIL_HEADERS, render_html
from kerasbench.report.pool import pool_repeats
from kerasbench.report.select import Query, parse_since, select, since_filter
from kerasbench.result import Result
from kerasbench.store import Store

EVIL_LABEL = "<script>alert(1)</script>"
EVIL_HOST = "host<b>bold</b>&co"
EVIL_ERROR = "<img src=x onerror=alert(2)> went wrong"


def make(model: str, backend: str, speed: float | None, **fields: Any) -> Result:
    """A result of ``batch`` samples per step whose windows give ``speed`` samples/s."""
    batch = fields.pop("batch_size", 32)
    fields.setdefault("per_device_batch_size", batch // fields.get("devices", 1))
    status = fields.pop("status", "ok" if speed is not None else "failed")
    measured: dict[str, Any] = {}
    if speed is not None:
        step = batch / speed
        # eight windows of two steps around the median step time (enough for a 95% CI)
        windows = tuple(2 * step * f for f in (0.98, 1.0, 1.0, 1.03, 0.99, 1.01, 1.0, 1.02))
        measured = dict(
            samples_per_sec=speed,
            samples_per_sec_ci=(speed * 0.97, speed * 1.02),
            step_time_ms=step * 1e3,
            step_time_ci_ms=(step * 1e3 * 0.98, step * 1e3 * 1.03),
            step_time_cv=0.02,
            steps_measured=16,
            window_steps=2,
            n_windows=8,
            window_times_s=windows,
            time_to_first_step_s=2.5 + len(backend) / 10,
            peak_host_memory_bytes=(300 + 10 * len(backend)) * 2**20,
            keras_version="3.15.1",
            backend_version="1.0",
            device_kind="cpu",
        )
    base: dict[str, Any] = dict(
        model=model,
        backend=backend,
        mode="fit",
        dataset="synthetic",
        batch_size=batch,
        devices=1,
        device_kind_requested="auto",
        precision="float32",
        data_format="channels_last",
        jit_compile="auto",
        image_size=32,
        seed=0,
        label=EVIL_LABEL,
        status=status,
        hostname=EVIL_HOST,
        cpu="Test CPU",
        cpu_count=2,
        started_at="2026-11-28T12:00:00+00:00",
        run_id="run1",
    )
    base.update(measured)
    base.update(fields)
    return Result(**base)


CURRENT = [
    make("cifar10_cnn", "jax", 400.0),
    make("cifar10_cnn", "tensorflow", 1000.0),
    make("cifar10_cnn", "torch", None, error=EVIL_ERROR),
    make("cifar10_cnn", "openvino", None, status="skipped", error="inference only"),
    make("cifar10_cnn", "jax", 700.0, devices=2, batch_size=64),
    make("cifar10_cnn", "tensorflow", 1500.0, devices=2, batch_size=64),
    make("mnist_mlp", "jax", 20000.0, mode="predict", batch_size=128),
    make("mnist_mlp", "torch", 15000.0, mode="predict", batch_size=128),
]
# The baseline: tensorflow was faster (a regression now), jax slower (an improvement).
OLD = dict(label="base", run_id="run0", started_at="2026-11-01T09:00:00+00:00")
BASE = [
    make("cifar10_cnn", "jax", 300.0, **OLD),
    make("cifar10_cnn", "tensorflow", 1300.0, **OLD),
    make("cifar10_cnn", "torch", 500.0, **OLD),
    make("mnist_mlp", "jax", 20100.0, mode="predict", batch_size=128, **OLD),
]
HOST = {
    "hostname": EVIL_HOST,
    "os": "Linux-test",
    "cpu": "Test CPU",
    "cpu_count": 2,
    "memory_bytes": 8 * 2**30,
    "gpus": [],
    "python_version": "3.11.2",
    "keras_version": "3.15.1",
    "backend_versions": {"jax": "0.10.2", "tensorflow": None},
    "kerasbench_version": "0.1.0",
    "git_commit": "abc123",
}


def _chart(results: list[Result], name: str) -> plots.Chart:
    """One chart of a report, by name, as ``build_charts`` draws it from the report view."""
    (chart,) = [c for c in plots.build_charts(results) if c.name == name]
    return chart


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "results.db"
    with Store(path) as store:
        for run_id, label in (("run0", "base"), ("run1", EVIL_LABEL)):
            store._conn.execute(  # fixed run ids, so that results can point at them
                "INSERT INTO runs (run_id, started_at, suite, label, argv, host_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, "2026-11-28T12:00:00+00:00", "quick", label, "[]", json.dumps(HOST)),
            )
            store._conn.commit()
        for r in (*BASE, *CURRENT):
            store.save(r)
    return path


def _select(store_path: Path, **query: Any):
    with Store(store_path, create=False) as store:
        return select(store, Query(**query))


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
    everything = _select(store_path)
    assert len(everything.results) == len(CURRENT) + len(BASE)
    only = _select(
        store_path, models=["mnist_mlp"], backends=["jax"], since=parse_since("2026-11-28")
    )
    assert [(r.model, r.backend, r.label) for r in only.results] == [
        ("mnist_mlp", "jax", EVIL_LABEL)
    ]
    compared = _select(store_path, compare="base")
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
    results = _select(store_path, label=EVIL_LABEL).results
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
    results = _select(store_path, models=["cifar10_cnn"], label=EVIL_LABEL).results
    assert _markdown_table(formats.markdown(results), "| host")[0][-1] == "speed (images/s)"
    generate = make("gpt_small", "jax", 50.0, mode="generate", throughput_unit="tokens/s")
    table = _markdown_table(formats.markdown([generate]), "| host")
    assert table[0][-1] == "speed (tokens/s)"
    assert _chart([generate], "throughput-gpt_small").figure.axes[0].get_ylabel() == (
        "throughput (tokens/s)"
    )


def test_csv_and_json_hold_every_record(store_path: Path) -> None:
    results = _select(store_path, label=EVIL_LABEL).results
    rows = list(csv.DictReader(io.StringIO(formats.csv_records(results))))
    assert len(rows) == len(CURRENT)
    tf = next(r for r in rows if r["backend"] == "tensorflow" and r["devices"] == "1")
    assert float(tf["samples_per_sec"]) == 1000.0
    assert json.loads(tf["samples_per_sec_ci"]) == [970.0, 1020.0]
    assert rows[2]["error"] == EVIL_ERROR
    records = json.loads(formats.json_records(results))
    assert [r["backend"] for r in records] == [r.backend for r in CURRENT]


# --- HTML ---------------------------------------------------------------------------


class _Page(HTMLParser):
    """Checks nesting (every element closed in order) and collects what the tests look at."""

    VOID = {"meta", "br", "img", "hr", "link", "input", "col", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.figures: list[str] = []
        self.text: list[str] = []
        self.errors: list[str] = []
        self.rows: list[tuple[str, list[str]]] = []  # (tr class, cell texts) of every table

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "figure":
            self.figures.append(dict(attrs).get("id") or "")
        elif tag == "tr":
            self.rows.append((dict(attrs).get("class") or "", []))
        elif tag in ("td", "th"):
            self.rows[-1][1].append("")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if {"td", "th"} & set(self.stack[-2:]) and self.rows:
            self.rows[-1][1][-1] += data


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


def _svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", page, flags=re.S)]


EVIL_MODEL = make("<i>m</i>", "<u>b</u>", 10.0)


@pytest.fixture(scope="module")
def page(store_path: Path) -> str:
    """The report of the current results against the baseline, plus a hostile model.

    Rendered once for the module: drawing the charts is the slow part.
    """
    selection = _select(store_path, label=EVIL_LABEL, compare="base")
    selection = replace(selection, results=[*selection.results, EVIL_MODEL])
    return render_html(selection, Query(label=EVIL_LABEL, compare="base"))


def test_html_is_well_formed_with_one_chart_per_figure(page: str) -> None:
    parsed = _parse(page)
    expected = [
        "throughput-cifar10_cnn",
        "step-time-cifar10_cnn",
        "scaling-cifar10_cnn",
        "throughput-mnist_mlp",
        "step-time-mnist_mlp",
        "throughput-i-m-i",
        "step-time-i-m-i",
        "time-to-first-step",
        "peak-memory",
        "comparison-vs-base",
    ]
    assert parsed.figures == [f"chart-{name}" for name in expected]
    svgs = _svgs(page)  # each chart is an SVG that an XML parser reads
    assert len(svgs) == len(expected)
    assert all(svg.tag == "{http://www.w3.org/2000/svg}svg" for svg in svgs)
    text = "".join(parsed.text)
    assert "Test CPU" in text and "Linux-test" in text  # environment from the run
    assert "1,000.0 ± 25.0" in text  # the seed-shaped table
    assert "★ 1,000.0 ±2.5%" in text  # the grid marks the fastest
    assert "1,500.0  x1.50  75%" in text  # the scaling table: tensorflow at 2 devices
    # the full table: one row per point, with its numbers
    detail = {
        (cells[0], cells[1], cells[4]): cells
        for _, cells in parsed.rows
        if len(cells) == len(DETAIL_HEADERS) and cells[0] != "model"
    }
    assert len(detail) == len(CURRENT) + 1
    speed = DETAIL_HEADERS.index("samples/s")
    assert detail[("cifar10_cnn", "tensorflow", "1 × cpu")][speed] == "1,000.0"
    assert detail[("cifar10_cnn", "tensorflow", "2 × cpu")][speed] == "1,500.0"
    assert detail[("cifar10_cnn", "torch", "1 × auto")][speed - 1] == "failed"
    assert detail[("mnist_mlp", "jax", "1 × cpu")][DETAIL_HEADERS.index("host peak (MiB)")] == "330"
    # nothing to fetch: no external references of any kind
    assert not re.search(
        r"""(src|href)\s*=\s*["']?\s*(https?:|//)|url\(\s*["']?(https?:|//)""", page
    )
    assert "<link" not in page and "<img" not in page


def test_html_escapes_every_string_from_results(page: str) -> None:
    parsed = _parse(page)
    assert "script" not in parsed.tags
    assert not {"b", "i", "u", "img"} & set(parsed.tags)
    text = "".join(parsed.text)
    for hostile in (EVIL_LABEL, EVIL_HOST, EVIL_ERROR, "<i>m</i>", "<u>b</u>"):
        assert hostile in text  # shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_comparison_marks_regressions_and_improvements(page: str) -> None:
    verdicts = {}
    for verdict, cells in _parse(page).rows:
        if verdict and cells[-2].lstrip("▲▼ ") == verdict.replace("-", " "):  # comparison rows
            model, backend, _mode, _batch, devices = cells[:5]
            verdicts[(model, backend, devices)] = verdict
    assert verdicts == {
        ("cifar10_cnn", "tensorflow", "1"): "regression",  # 1300 -> 1000
        ("cifar10_cnn", "jax", "1"): "improvement",  # 300 -> 400
        ("cifar10_cnn", "torch", "1"): "broken",  # ok -> failed
        ("mnist_mlp", "jax", "1"): "unchanged",  # 20100 -> 20000, inside 5%
        ("cifar10_cnn", "openvino", "1"): "new",  # not in the baseline
        ("cifar10_cnn", "jax", "2"): "new",
        ("cifar10_cnn", "tensorflow", "2"): "new",
        ("mnist_mlp", "torch", "1"): "new",
        ("<i>m</i>", "<u>b</u>", "1"): "new",
    }


def test_compare_results_names_every_verdict() -> None:
    base = make("mnist_mlp", "jax", 100.0)
    faster = make("mnist_mlp", "jax", 110.0)  # every window 10% shorter
    # the same median speed-up, but windows that overlap the baseline's: not significant
    noisy = replace(
        faster,
        window_times_s=tuple(
            w * f
            for w, f in zip(
                base.window_times_s, (0.7, 1.25, 0.8, 1.2, 0.75, 1.3, 0.85, 1.15), strict=True
            )
        ),
    )
    change = compare_results([base], [faster])[0]
    assert change.verdict == "improvement"
    assert change.percent == pytest.approx(10.0)
    assert change.p_value is not None and change.p_value < 0.05
    assert compare_results([base], [noisy])[0].verdict == "unchanged"
    failed = make("mnist_mlp", "jax", None)
    assert compare_results([base], [failed])[0].verdict == "broken"
    assert compare_results([failed], [base])[0].verdict == "fixed"
    assert compare_results([failed], [failed])[0].verdict == "still failing"
    assert compare_results([], [base])[0].verdict == "new"
    short = replace(faster, window_times_s=faster.window_times_s[:2], n_windows=2)
    too_few = compare_results([base], [short])[0]
    assert too_few.verdict == "smoke" and "2 timed windows" in too_few.reason
    assert too_few.p_value is None and too_few.ratio_ci is None


# --- charts --------------------------------------------------------------------------


def test_failed_points_are_labelled_not_drawn_as_zero() -> None:
    chart = _chart([r for r in CURRENT if r.devices == 1], "throughput-cifar10_cnn")
    ax = chart.figure.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert sorted(heights) == [400.0, 1000.0]  # jax, tensorflow; nothing for torch/openvino
    texts = [t.get_text() for t in ax.texts]
    assert "failed" in texts and "skipped" in texts
    assert "★ 1,000" in texts  # the fastest is marked
    assert ax.get_ylabel() == "throughput (images/s)"


def test_each_backend_keeps_its_colour_across_charts() -> None:
    from matplotlib.colors import to_hex

    seen: dict[str, set[str]] = {}
    for chart in plots.build_charts(CURRENT):
        for ax in chart.figure.axes:
            for artist in ax.get_children():
                label = str(artist.get_label())
                if not label.startswith("_backend:"):
                    continue
                if hasattr(artist, "get_facecolor"):
                    colour = artist.get_facecolor()
                    colour = colour[0] if getattr(colour, "ndim", 1) == 2 else colour
                else:
                    colour = artist.get_color()
                seen.setdefault(label.split(":", 1)[1], set()).add(to_hex(colour, keep_alpha=False))
    assert set(seen) == {"jax", "tensorflow", "torch"}  # openvino was never measured
    for backend, colours in seen.items():
        assert colours == {plots.backend_colour(backend)}, backend
    assert plots.backend_colour("mxnet") != plots.backend_colour("jax")
    assert plots.backend_colour("brand-new") == plots.backend_colour("brand-new")


def test_png_files_are_valid_images_named_by_content(tmp_path: Path) -> None:
    from PIL import Image

    charts = plots.build_charts(CURRENT)
    paths = plots.write_pngs(charts, tmp_path / "charts")
    assert [p.name for p in paths] == [
        "throughput-cifar10_cnn.png",
        "step-time-cifar10_cnn.png",
        "scaling-cifar10_cnn.png",
        "throughput-mnist_mlp.png",
        "step-time-mnist_mlp.png",
        "time-to-first-step.png",
        "peak-memory.png",
    ]
    for chart, path in zip(charts, paths, strict=True):
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size == plots.png_size(chart)
            # a chart, not a blank page: several colours in use
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 10


def test_chart_names_are_safe_file_names() -> None:
    charts = plots.build_charts([make("../../etc/passwd", "jax", 5.0), make("..", "jax", 5.0)])
    names = [c.name for c in charts]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", n) and ".." not in n.split("/") for n in names)
    assert len(set(names)) == len(names)
    assert not any(n.startswith(".") for n in names)


def test_scaling_efficiency_is_relative_to_the_fewest_devices() -> None:
    lines = plots.scaling_lines([r for r in CURRENT if r.model == "cifar10_cnn"])
    tf = next(points for (backend, _), points in lines.items() if backend == "tensorflow")
    assert [p.devices for p in tf] == [1, 2]
    assert tf[1].efficiency == pytest.approx(1500 / 2 / 1000)


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


# --- the page in a real browser ---------------------------------------------------


def _chromium() -> str | None:
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(
    _chromium() is None, reason="Chromium not installed (Debian: apt-get install chromium)"
)
def test_report_renders_in_headless_chromium(page: str, tmp_path: Path) -> None:
    """Open the report from disk in Chromium: it renders every chart and logs no console message.

    The page runs no script and its Content-Security-Policy forbids loading
    anything, so any console message (a blocked script or fetch, a parse error)
    is a fault: an injected ``<script>`` would show here as a CSP violation.
    """
    import subprocess

    from PIL import Image

    report = tmp_path / "report.html"
    report.write_text(page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    width, height = 1280, 2400
    proc = subprocess.run(
        [
            str(_chromium()),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = proc.stdout  # the document as Chromium built it
    assert dom.count("<svg") == len(_parse(page).figures) == 10
    assert "<script" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    with Image.open(shot) as image:
        assert image.size == (width, height)
        top = image.convert("RGB").crop((0, 0, width, height // 2))
        assert len(top.getcolors(maxcolors=1 << 20) or []) > 50  # text and charts, not blank


def test_memory_chart_adds_device_memory_where_measured() -> None:
    on_gpu = replace(CURRENT[0], peak_device_memory_bytes=512 * 2**20, device_kind="gpu")
    chart = _chart([on_gpu, CURRENT[1], CURRENT[2]], "peak-memory")
    axes = [ax for ax in chart.figure.axes if ax.get_visible()]
    assert [ax.get_ylabel() for ax in axes] == [
        "peak host memory (MiB)",
        "peak device memory (MiB)",
    ]
    device = axes[1]
    assert [p.get_height() for p in device.patches] == [512.0]  # jax only
    texts = [t.get_text() for t in device.texts]
    assert "not measured" in texts and "failed" in texts  # tensorflow, torch
    assert not any(t.startswith("★") for ax in axes for t in (x.get_text() for x in ax.texts))


def test_hosts_multiply_devices_in_scaling_and_tables() -> None:
    one = make("cifar10_cnn", "jax", 400.0)
    two_hosts = make(
        "cifar10_cnn", "jax", 720.0, num_hosts=2, batch_size=64, per_device_batch_size=32
    )
    lines = plots.scaling_lines([one, two_hosts])
    (points,) = lines.values()
    assert [p.devices for p in points] == [1, 2]
    assert points[1].efficiency == pytest.approx(0.9)
    _, rows = formats.seed_rows([one, two_hosts])
    assert [row[1] for row in rows] == ["1 × CPU", "2 hosts × 1 × CPU"]


def test_repeats_of_a_point_are_one_row_and_one_bar() -> None:
    repeats = [make("mnist_mlp", "jax", speed, repeat=i) for i, speed in enumerate((90.0, 110.0))]
    _, rows = formats.seed_rows(repeats)
    assert len(rows) == 1
    chart = _chart(repeats, "throughput-mnist_mlp")
    assert len(chart.figure.axes[0].patches) == 1
    (pooled,) = pool_repeats(repeats)
    assert pooled.repeats_pooled == 2 and 90.0 < pooled.samples_per_sec < 110.0
