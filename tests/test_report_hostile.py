"""Hostile strings and files in reports and ``compare`` (issue 14): shown, never acted on.

Each test first builds the attack (a label that is Rich markup, an escape
sequence, a Markdown header that breaks the table, a JSON export that is not
results, NaN window times), then checks that it is refused with one line or
shown as text. A bounded hypothesis run fuzzes the JSON reader of ``compare``.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from factories import make_result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from kerasbench.report import formats, verdicts
from kerasbench.report.exports import CompareError, load_results
from kerasbench.report.html import render_html
from kerasbench.report.scaling import render_scaling_table, scaling_table
from kerasbench.report.select import Selection
from kerasbench.report.table import render_table
from kerasbench.result import Result

ESC = "\x1b[2J\x1b[31mred\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\\x07"
MARKUP = ["[/]", "[link=file:///etc/passwd]click[/link]", "[bold red]loud[/]"]


def _labelled(*labels: str, **kw: object) -> list[Result]:
    return [make_result(1000.0 + i, n=8, label=label, **kw) for i, label in enumerate(labels)]


def _terminal(renderable: object) -> str:
    console = Console(width=400, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_labels_backends_and_units_are_not_rich_markup() -> None:
    results = _labelled(*MARKUP)
    results.append(replace(make_result(5.0, n=8), backend="[/]", throughput_unit="[i]u/s[/i]"))
    text = _terminal(render_table(results))  # "[/]" used to raise MarkupError
    for label in MARKUP:
        assert label in text  # shown literally: no link, no style
    assert "[i]u/s[/i]" in text


def test_escape_sequences_are_shown_as_text_in_every_output() -> None:
    results = _labelled(ESC, "plain")
    results.append(replace(results[0], backend="torch", error=ESC, status="failed"))
    outputs = {
        "table": _terminal(render_table(results)),
        "markdown": formats.markdown(results),
        "csv": formats.csv_records(results),
        "html": render_html(Selection(results)),
    }
    for name, out in outputs.items():
        assert "\x1b" not in out and "\x07" not in out, name
        assert "\\x1b[31mred" in out, name
    base, new = [results[0]], [replace(results[0], run_id="r2")]
    lines = "\n".join(verdicts.format_lines(verdicts.compare(base, new)))
    assert "\x1b" not in lines
    scaling = [make_result(900.0, n=8, label=ESC), make_result(1700.0, n=8, label=ESC, devices=2)]
    assert "\x1b" not in _terminal(render_scaling_table(scaling_table(scaling)))


def test_markdown_header_cells_are_escaped() -> None:
    results = [replace(make_result(5.0, n=8), backend="a|b<img src=x>", throughput_unit="x|y")]
    header = formats.grid_markdown(results).splitlines()[0]
    assert "a\\|b&lt;img src=x&gt;" in header and "<img" not in header
    seed = formats.seed_markdown(results).splitlines()[0]
    assert "x\\|y" in seed


def _write(tmp_path: Path, data: object, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _record(**changes: object) -> dict:
    record = make_result(1000.0, n=8).to_dict()
    record.update(changes)
    return record


@pytest.mark.parametrize(
    "data, message",
    [
        ([1], "record 0: expected a result record (an object), got int"),
        ({"a": 1}, "expected a JSON list of result records, got an object"),
        ([{"model": "m"}], "record 0: missing field 'backend'"),
        ([_record(batch_size="32")], "field 'batch_size' has the wrong type"),
        ([_record(window_times_s="0.1,0.2")], "field 'window_times_s' has the wrong type"),
        ([_record(window_times_s=[0.1, 0])], "window_times_s holds 0"),
        ([_record(status="great")], "status: 'great' is not one of"),
        ([_record(settings=[1])], "field 'settings' has the wrong type"),
        ([_record(batch_size=True)], "field 'batch_size' has the wrong type"),
    ],
)
def test_bad_json_exports_are_one_line_errors(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(CompareError, match=None) as error:
        load_results(_write(tmp_path, data))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_cli_compare_exits_2_on_records_that_are_not_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kerasbench.cli import main

    good = _write(tmp_path, [_record()], "good.json")
    assert main(["compare", str(good), str(_write(tmp_path, [1], "one.json"))]) == 2
    err = capsys.readouterr().err
    assert "one.json: record 0" in err and "Traceback" not in err


def test_nan_windows_are_refused_never_no_change(tmp_path: Path) -> None:
    nan = _write(tmp_path, [_record(window_times_s=[math.nan] * 8)], "nan.json")
    with pytest.raises(CompareError, match="window_times_s holds nan"):
        load_results(nan)
    inf = _write(tmp_path, [_record(window_times_s=[math.inf] * 8)], "inf.json")
    with pytest.raises(CompareError, match="not a positive finite time"):
        load_results(inf)
    # Results built in memory (not read from a file) are marked, not judged.
    good = make_result(1000.0, n=8)
    bad = replace(good, window_times_s=(math.nan,) * 8, run_id="r2")
    (point,) = verdicts.compare([good], [bad]).points
    assert point.verdict == verdicts.NOT_COMPARABLE and "finite" in point.reason


# --- fuzz: the JSON reader of compare ---------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_FIELDS = list(_record())


@st.composite
def _exports(draw: st.DrawFn) -> object:
    """Arbitrary JSON, or valid records with some fields replaced, dropped or added."""
    if draw(st.booleans()):
        return draw(_JSON)
    records = []
    for _ in range(draw(st.integers(1, 3))):
        record = _record()
        for key in draw(st.lists(st.sampled_from(_FIELDS), max_size=3)):
            if draw(st.booleans()):
                record[key] = draw(_JSON)
            else:
                record.pop(key, None)
        records.append(record)
    return records


@settings(
    max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(_exports())
def test_fuzz_json_exports_give_a_clear_error_or_a_comparison(data: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        try:
            results = load_results(path)
        except CompareError as exc:
            assert "\n" not in str(exc)
            return
    comparison = verdicts.compare(results, results)
    verdicts.format_lines(comparison)
    verdicts.to_json(comparison)
    for point in comparison.points:
        assert point.verdict != verdicts.REGRESSION  # a side against itself never regresses
