"""The Keras-overhead view: Keras on a framework against that framework used directly.

For each configuration that both a Keras backend (``jax``, ``torch``) and its
native baseline (``jax-native``, ``torch-native``) measured, one row: Keras'
throughput over the native one, with a 95% CI that resamples both sides'
windows (``stats.throughput_ratio_ci``). Below 1, Keras is slower: 0.80 means
Keras reaches 80% of the native throughput (a 25% longer step).

Rows are paired from the report view's rows (``report.view``): the same model,
mode, batch, precision, data format, image size, devices and every other
configuration field; only the compile settings may differ, since they name
what each side does (Keras' ``jit_compile``, the native ``compile``), and each
pair is shown with both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from kerasbench.backends import BACKENDS
from kerasbench.report.labels import speed_number
from kerasbench.report.view import View, build_view, shown_ci, windows_of
from kerasbench.result import Result
from kerasbench.stats import MIN_CI_WINDOWS
from kerasbench.stats.twosample import throughput_ratio_ci

# Configuration fields that may differ within a pair: each side's own compile setting.
COMPILE_FIELDS = ("jit_compile", "compile")
HEADERS = (
    "model",
    "mode",
    "config",
    "framework",
    "keras jit",
    "native compile",
    "keras",
    "native",
    "keras / native",
    "95% CI",
)


@dataclass(frozen=True)
class OverheadRow:
    """One pair: a Keras backend's point and its native baseline's, with their ratio."""

    model: str
    mode: str
    config: str  # the shared configuration in words (batch, format, ...)
    framework: str  # jax, torch
    keras_backend: str
    native_backend: str
    keras_jit: str
    native_compile: str
    keras_speed: float | None
    native_speed: float | None
    unit: str
    ratio: float | None  # Keras throughput / native throughput
    ci: tuple[float, float] | None  # None: a side has fewer windows than a CI needs
    keras: Result
    native: Result

    def record(self) -> dict[str, object]:
        """The row as plain data (CSV and JSON), without the two results."""
        data = asdict(self)
        del data["keras"], data["native"]
        data["ci_low"], data["ci_high"] = self.ci if self.ci else (None, None)
        del data["ci"]
        return data


def native_pairs() -> dict[str, str]:
    """Each Keras backend that has a native baseline, and that baseline: {"jax": "jax-native"}."""
    pairs = {}
    for name, info in BACKENDS.items():
        if info.native and info.native in BACKENDS:
            pairs[info.native] = name
    return pairs


def _step_times(r: Result) -> list[float]:
    k = r.window_steps or 1
    return [w / k for w in r.window_times_s]


def ratio_of(keras: Result, native: Result) -> tuple[float | None, tuple[float, float] | None]:
    """Keras' throughput over the native one, and its 95% CI when both sides have one."""
    if keras.status != "ok" or native.status != "ok":
        return None, None
    if not keras.samples_per_sec or not native.samples_per_sec:
        return None, None
    ratio = keras.samples_per_sec / native.samples_per_sec
    enough = min(windows_of(keras), windows_of(native)) >= MIN_CI_WINDOWS
    if not enough or shown_ci(keras) is None or shown_ci(native) is None:
        return ratio, None
    steps_k, steps_n = _step_times(keras), _step_times(native)
    if len(steps_k) < MIN_CI_WINDOWS or len(steps_n) < MIN_CI_WINDOWS:
        return ratio, None
    _, low, high = throughput_ratio_ci(steps_n, steps_k)  # NEW = Keras over BASE = native
    return ratio, (low, high)


def overhead_rows(results: Sequence[Result], view: View | None = None) -> list[OverheadRow]:
    """Every Keras/native pair of the results, in the view's row order."""
    view = view or build_view(results)
    names = [f.name for f in view.fields]
    shared = [i for i, n in enumerate(names) if n not in COMPILE_FIELDS]
    words = [f for f in view.fields if f.name not in (*COMPILE_FIELDS, "model", "mode")]
    groups: dict[tuple[str, ...], list] = {}
    for row in view.rows:
        key = tuple(row.config[i] for i in shared) + row.config[len(names) :]
        groups.setdefault(key, []).append(row)
    found = []
    for rows in groups.values():
        for framework, native in native_pairs().items():
            keras_side = [r.cells[framework] for r in rows if framework in r.cells]
            native_side = [r.cells[native] for r in rows if native in r.cells]
            for k in keras_side:
                for n in native_side:
                    ratio, ci = ratio_of(k, n)
                    found.append(
                        OverheadRow(
                            k.model,
                            k.mode,
                            ", ".join(f.words(k) for f in words),
                            framework,
                            framework,
                            native,
                            k.jit_compile,
                            n.compile,
                            k.samples_per_sec if k.status == "ok" else None,
                            n.samples_per_sec if n.status == "ok" else None,
                            k.throughput_unit,
                            ratio,
                            ci,
                            k,
                            n,
                        )
                    )
    return found


def ratio_text(row: OverheadRow) -> tuple[str, str]:
    """The ratio and its CI as table text; a side that was not measured gives its status."""
    if row.ratio is None:
        status = row.keras.status if row.keras.status != "ok" else row.native.status
        return status, ""
    ci = f"{row.ci[0]:.2f}-{row.ci[1]:.2f}" if row.ci else f"(under {MIN_CI_WINDOWS} windows)"
    return f"{row.ratio:.2f}", ci


def table_cells(row: OverheadRow) -> list[str]:
    """One row's cells, in HEADERS order."""

    def speed(value: float | None, r: Result) -> str:
        return speed_number(value) if value is not None else r.status

    return [
        row.model,
        row.mode,
        row.config,
        row.framework,
        row.keras_jit,
        row.native_compile,
        speed(row.keras_speed, row.keras),
        speed(row.native_speed, row.native),
        *ratio_text(row),
    ]


CAPTION = (
    "Keras overhead: throughput of Keras on a framework over the framework used directly "
    "(same model, mode, batch, precision, data); below 1, Keras is slower. 95% CI: "
    "bootstrap over both sides' timed windows."
)


def overhead_markdown(rows: Sequence[OverheadRow]) -> str:
    """The overhead table as Markdown; empty without pairs."""
    from kerasbench.report.formats import md_row

    if not rows:
        return ""
    lines = ["### Keras overhead", "", md_row(HEADERS)]
    lines.append("|" + "|".join("---" for _ in HEADERS[:6]) + "|---:|---:|---:|---|")
    lines += [md_row(table_cells(r)) for r in rows]
    return "\n".join([*lines, "", CAPTION, ""])


def overhead_json(rows: Sequence[OverheadRow]) -> str:
    return json.dumps([r.record() for r in rows], indent=2) + "\n"


def overhead_csv(rows: Sequence[OverheadRow]) -> str:
    import csv
    import io

    from kerasbench.report.formats import csv_cell

    if not rows:
        return ""
    records = [r.record() for r in rows]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: csv_cell(v) for k, v in record.items()})
    return out.getvalue()


def render_overhead_table(rows: Sequence[OverheadRow]) -> object:
    """The overhead table for the terminal (a Rich table)."""
    from rich.table import Table

    from kerasbench.report.table import text

    table = Table(title=text("Keras overhead (Keras / native throughput)"), caption=text(CAPTION))
    for i, header in enumerate(HEADERS):
        table.add_column(text(header), justify="right" if 6 <= i <= 8 else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(text(c) for c in table_cells(row)))
    return table
