"""The HTML report: well formed, every string escaped, comparison marked, renders in a browser."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_data import (
    CURRENT,
    EVIL_ERROR,
    EVIL_HOST,
    EVIL_LABEL,
    make,
    make_store,
    select_from,
)

from kerasbench.report.baseline import compare_results
from kerasbench.report.html import DETAIL_HEADERS, render_html
from kerasbench.report.select import Query


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("store") / "results.db")


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
    selection = select_from(store_path, label=EVIL_LABEL, compare="base")
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
