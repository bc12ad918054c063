"""The one view of results that every report shows: rows, varying fields, labels, backend order.

The terminal table, Markdown, HTML and the charts all read ``build_view``, so
that a page's table and its charts group the same results the same way: one
row per configuration (every point-key field but the backend, plus the label),
one cell per backend, the repeats of a point pooled first. A configuration
field that every result shares is left out (model, mode and batch always
stay, to read a table on its own). Charts label a row in words
(``ViewRow.label``: "fit, batch 32, NHWC"), leaving out what a model's rows
share; they only draw what the view decided.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kerasbench.backends import BACKENDS
from kerasbench.report.labels import common_unit, safe_text, speed_number, total_devices, unit
from kerasbench.report.pool import pool_repeats, spread_notes
from kerasbench.result import TRAINING_MODES, Result
from kerasbench.stats import MIN_CI_WINDOWS


def _devices(r: Result) -> str:
    return str(r.devices) if r.num_hosts <= 1 else f"{r.num_hosts}×{r.devices}"


def _format(r: Result) -> str:
    return {"channels_last": "NHWC", "channels_first": "NCHW"}.get(r.data_format, r.data_format)


def _size(r: Result) -> str:
    return str(r.image_size) if r.image_size else "-"  # a model that takes no images


@dataclass(frozen=True)
class Field:
    """One configuration column: its result field, table header, cell text and words."""

    name: str
    header: str
    text: Callable[[Result], str]
    words: Callable[[Result], str]  # how a chart label says it
    # the results whose value matters: only they decide whether the column is shown
    applies: Callable[[Result], bool] = lambda r: True


def _plain(name: str) -> Callable[[Result], str]:
    return lambda r: str(getattr(r, name))


FIELDS = (
    Field("model", "model", _plain("model"), _plain("model")),
    Field("mode", "mode", _plain("mode"), _plain("mode")),
    Field("dataset", "data", _plain("dataset"), _plain("dataset")),
    Field("input", "input", _plain("input"), _plain("input")),
    Field("batch_size", "batch", _plain("batch_size"), lambda r: f"batch {r.batch_size}"),
    Field("devices", "dev", _devices, lambda r: f"{total_devices(r)} dev"),
    Field(
        "device_kind_requested",
        "kind",
        _plain("device_kind_requested"),
        _plain("device_kind_requested"),
    ),
    Field("precision", "precision", _plain("precision"), _plain("precision")),
    Field("data_format", "format", _format, _format),
    Field("jit_compile", "jit", _plain("jit_compile"), lambda r: f"jit {r.jit_compile}"),
    Field("compile", "compile", _plain("compile"), lambda r: f"compile {r.compile}"),
    Field(
        "image_size", "size", _size, lambda r: f"{r.image_size}px" if r.image_size else "no image"
    ),
    Field("seq_len", "seq", lambda r: str(r.seq_len or "-"), lambda r: f"seq {r.seq_len}"),
    Field("runtime", "runtime", _plain("runtime"), _plain("runtime")),
    Field("qps", "qps", lambda r: f"{r.qps:g}" if r.qps else "-", lambda r: f"{r.qps:g}/s"),
    Field(
        "optimizer",
        "optimizer",
        lambda r: r.optimizer or "-",
        lambda r: r.optimizer or "",
        lambda r: r.mode in TRAINING_MODES,
    ),
    Field(
        "learning_rate",
        "lr",
        lambda r: f"{r.learning_rate:g}" if r.learning_rate else "-",
        lambda r: f"lr {r.learning_rate:g}" if r.learning_rate else "default lr",
        lambda r: r.mode in TRAINING_MODES,
    ),
    Field("lora_rank", "lora", lambda r: str(r.lora_rank or "-"), lambda r: f"LoRA {r.lora_rank}"),
    # two user models under one name are two rows, told apart by their hash
    Field(
        "model_sha256",
        "sha256",
        lambda r: (r.model_sha256 or "-")[:10],
        lambda r: f"sha256 {(r.model_sha256 or '-')[:10]}",
        lambda r: r.model_sha256 is not None,
    ),
    # run --env a,b: each named environment is a row (env is in the point key)
    Field("env", "env", lambda r: r.env or "-", lambda r: f"env {r.env}" if r.env else "no env"),
    Field(
        "label", "label", _plain("label"), lambda r: f"label {r.label}" if r.label else "no label"
    ),
)
BY_NAME = {f.name: f for f in FIELDS}
ALWAYS = ("model", "mode", "batch_size")  # a table row is readable on its own


def backend_order(results: Sequence[Result]) -> list[str]:
    """Backends present: registry order first, then the others by name."""
    present = {r.backend for r in results}
    return [b for b in BACKENDS if b in present] + sorted(present - set(BACKENDS))


def varying(
    results: Sequence[Result], fields: Sequence[Field], always: Sequence[str]
) -> list[Field]:
    """The fields among ``fields`` whose text differs among ``results``, plus ``always``."""
    return [
        f
        for f in fields
        if f.name in always or len({f.text(r) for r in results if f.applies(r)}) > 1
    ]


def words(result: Result, fields: Sequence[Field]) -> str:
    """A configuration in a few words: "fit, batch 32, NHWC"."""
    return ", ".join(safe_text(f.words(result)) for f in fields)


def shown_ci(result: Result) -> tuple[float, float] | None:
    """The throughput CI a report may show: none below 6 windows, even if a record has one.

    Records written before intervals depended on the window count carry a
    bootstrap "CI" from 2 windows (their range); it is not shown.
    """
    n = result.n_windows if result.n_windows is not None else len(result.window_times_s)
    if result.window_times_s or result.n_windows is not None:
        if n < MIN_CI_WINDOWS:
            return None
    return result.samples_per_sec_ci


def is_smoke(result: Result) -> bool:
    """A measured point with too few windows for a 95% CI: a smoke measurement.

    A server point's rate is set by its generator and has no CI (its latency
    percentiles carry theirs): not a smoke measurement.
    """
    if result.mode == "server" and result.p99_ms is not None:
        return False
    return result.status == "ok" and result.samples_per_sec is not None and shown_ci(result) is None


def windows_of(result: Result) -> int:
    return result.n_windows if result.n_windows is not None else len(result.window_times_s)


def cell_text(result: Result, ms_per_step: bool = False) -> str:
    """ "812.3 ±1.5%" for a measured point, "2.87 (2 windows)" without a CI, else its status;
    ``ms_per_step`` adds the median step time (keras.io's unit), and a generate point
    always shows its time to first token and per output token."""
    if result.status != "ok" or result.samples_per_sec is None:
        return result.status
    text = speed_number(result.samples_per_sec)
    ci = shown_ci(result)
    if ci is not None:
        half = (ci[1] - ci[0]) / 2 / result.samples_per_sec * 100
        text = f"{text} ±{half:.1f}%"
    else:
        n = windows_of(result)
        text = f"{text} ({n} window{'s' if n != 1 else ''})"
    if ms_per_step and result.step_time_ms is not None:
        text += f" | {result.step_time_ms:.4g} ms/step"
    if result.time_to_first_token_s is not None and result.time_per_output_token_s is not None:
        ttft, tpot = result.time_to_first_token_s * 1e3, result.time_per_output_token_s * 1e3
        text += f" | TTFT {ttft:.3g} ms, TPOT {tpot:.3g} ms"
    return text


SMOKE_NOTE = (
    f"(n windows): fewer than {MIN_CI_WINDOWS} timed windows, no 95% CI; a smoke "
    "measurement, not a comparison"
)


@dataclass(frozen=True)
class ViewRow:
    """One configuration: its column values, its words for charts, its result per backend."""

    model: str
    config: tuple[str, ...]  # text of View.fields, then the unit when rows count different things
    label: str  # the configuration in words, without the model and what its rows share
    cells: dict[str, Result]  # backend -> result (repeats pooled)
    fastest: str | None  # the fastest measured backend, when at least two were measured
    unit: str


@dataclass(frozen=True)
class View:
    backends: list[str]
    fields: tuple[Field, ...]  # the configuration columns shown
    rows: list[ViewRow]
    unit: str | None  # what every cell counts per second; None: a unit column says per row
    notes: list[str] = field(default_factory=list)  # skipped or failed points, spread, drift

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(f.header for f in self.fields) + (() if self.unit else ("unit",))

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(row.model for row in self.rows))

    def rows_of(self, model: str) -> list[ViewRow]:
        return [row for row in self.rows if row.model == model]

    @property
    def results(self) -> list[Result]:
        return [r for row in self.rows for r in row.cells.values()]

    @property
    def smoke(self) -> bool:
        """Whether some measured cell has too few windows for a CI."""
        return any(is_smoke(r) for r in self.results)


def _fastest(cells: dict[str, Result]) -> str | None:
    speeds = {
        b: r.samples_per_sec
        for b, r in cells.items()
        if r.status == "ok" and r.samples_per_sec is not None
    }
    return max(speeds, key=speeds.__getitem__) if len(speeds) > 1 else None


def _labels(rows: dict[tuple[str, ...], dict[str, Result]], fields: Sequence[Field]) -> dict:
    """Each row's words, per model leaving out the fields its rows share (mode always kept)."""
    per_model: dict[str, list[tuple[str, ...]]] = {}
    for key, cells in rows.items():
        per_model.setdefault(next(iter(cells.values())).model, []).append(key)
    labels = {}
    for keys in per_model.values():
        firsts = [next(iter(rows[k].values())) for k in keys]
        mine = varying(firsts, [f for f in fields if f.name != "model"], ("mode",))
        for key, first in zip(keys, firsts, strict=True):
            labels[key] = words(first, mine)
    return labels


def build_view(results: Sequence[Result], always: Sequence[str] = ALWAYS) -> View:
    """Group results into rows (repeats pooled); the newest result of a row's backend wins."""
    results = pool_repeats(results)
    fields = tuple(varying(results, FIELDS, always))
    shared_unit = common_unit(results)
    rows: dict[tuple[str, ...], dict[str, Result]] = {}
    for r in results:
        key = tuple(safe_text(f.text(r)) for f in fields)
        if shared_unit is None:  # rows count different things (images, samples, tokens)
            key += (unit(r),)
        rows.setdefault(key, {})[r.backend] = r
    labels = _labels(rows, fields)
    view_rows, notes = [], []
    for key, cells in rows.items():
        first = next(iter(cells.values()))
        view_rows.append(
            ViewRow(first.model, key, labels[key], cells, _fastest(cells), unit(first))
        )
        for b, r in cells.items():
            if r.status != "ok" and r.error:
                notes.append(f"{r.model} {r.mode} on {b}: {r.status}: {r.error}")
    notes.extend(spread_notes(results))
    return View(
        backend_order(results), fields, view_rows, shared_unit, [safe_text(n) for n in notes]
    )
