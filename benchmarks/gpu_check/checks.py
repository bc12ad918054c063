"""The checks of gpu_check: pure functions from kerasbench records (JSON dicts) to table rows.

Nothing here runs a model. Each function takes the records that
``kerasbench report --format json`` prints (the fields of ``kerasbench.result.Result``)
and returns ``Check`` rows with a verdict, so that tests can feed them fabricated
records and the script can feed them measured ones.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Record = Mapping[str, Any]

OK, FAIL, NA_CPU = "ok", "FAIL", "n/a (cpu)"
SYNC_TOLERANCE = 0.02  # kerasbench and the every-step-synchronised loop agree within 2%
TF32_MIN_GAIN = 1.2  # TF32 tensor cores: several times the fp32 peak; 1.2x is beyond noise

# Fields every ok training record must fill, on any device.
REQUIRED_FIELDS = (
    "samples_per_sec",
    "samples_per_sec_ci",
    "step_time_ms",
    "step_time_ci_ms",
    "step_time_cv",
    "steps_measured",
    "n_windows",
    "window_steps",
    "warmup_steps",
    "time_to_first_step_s",
    "compile_time_s",
    "peak_host_memory_bytes",
    "device_kind",
    "device_name",
    "keras_version",
    "backend_version",
    "python_version",
    "hostname",
    "cpu",
    "cpu_count",
    "kerasbench_version",
    "started_at",
    "duration_s",
    "cpu_steal_fraction",
    "run_id",
    "stop_reason",
    "first_window_step_ms",
    "first_window_ratio",
    "drift",
    "settled",
    "forward_flops_per_sample",
    "flops_per_step",
    "achieved_tflops",
    "peak_tflops",
    "mfu",
)
# Fields only a GPU fills (None on CPU by design).
GPU_FIELDS = ("peak_device_memory_bytes",)
# Not required: git_commit (None outside a git checkout, e.g. a copied tree), error and
# stderr_tail (None when all went well), input_wait_fraction and skipped_files (loaders
# and real datasets only), repeats_pooled and the *_process_cv (pooled report rows only).
# Settings keys that say a figure could not be made.
ERROR_SETTINGS = ("peak_error", "flops_error")
# The settings that must say TF32 is off (or on) per backend, and their values when on.
TF32_SETTINGS = {
    "jax": ("jax_default_matmul_precision", "tensorfloat32", "float32"),
    "torch": (
        "torch_allow_tf32",
        {"matmul": True, "cudnn": True},
        {"matmul": False, "cudnn": False},
    ),
    "tensorflow": ("tf_tensor_float_32_execution", True, False),
}


@dataclass(frozen=True)
class Check:
    """One row of the table: what was checked, its figure and its verdict."""

    name: str
    backend: str
    precision: str
    figure: str
    verdict: str  # OK, FAIL, NA_CPU, or "n/a (why)" / "skipped (why)"
    detail: str = ""  # why it failed, or a note
    values: dict[str, Any] = field(default_factory=dict)  # the numbers, for the JSON output

    @property
    def failed(self) -> bool:
        return self.verdict == FAIL


def _by_backend(records: Iterable[Record]) -> dict[str, list[Record]]:
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(record["backend"], []).append(record)
    return groups


def _what(record: Record) -> str:
    return f"{record['model']} {record['mode']} {record['precision']}"


def error_line(record: Record) -> str:
    text = (record.get("error") or record.get("stderr_tail") or "no error recorded").strip()
    return f"{record['status']}: {text.splitlines()[-1][:160]}"


def _mib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def speed_figure(record: Record) -> str:
    """'2843 samples/s ±1.2%': the median and the half-width of its 95% CI, relative."""
    speed, ci = record["samples_per_sec"], record.get("samples_per_sec_ci")
    unit = record.get("throughput_unit") or "samples/s"
    if not ci:
        return f"{speed:.1f} {unit}"
    return f"{speed:.1f} {unit} ±{(ci[1] - ci[0]) / 2 / speed:.1%}"


def check_device(records: Iterable[Record], kind: str) -> list[Check]:
    """Every record of a backend ran on the device kind asked for and names the device."""
    rows = []
    for backend, group in _by_backend(records).items():
        bad = [
            f"{_what(r)}: device_kind={r.get('device_kind')!r} device_name={r.get('device_name')!r}"
            for r in group
            if r["status"] == "ok"
            and (
                r.get("device_kind") != kind
                or not r.get("device_name")
                # a GPU record named after the CPU was filled from the wrong device
                or (kind == "gpu" and r.get("device_name") == r.get("cpu"))
            )
        ]
        ran = [r for r in group if r["status"] == "ok"]
        name = ran[0].get("device_name") if ran else None
        if not ran:
            verdict, detail = FAIL, "no record ran: " + error_line(group[0])
        else:
            verdict, detail = (FAIL, "; ".join(bad)) if bad else (OK, "")
        figure = f"{kind}: {name}" if name else "-"
        rows.append(Check(f"device is {kind}, named", backend, "-", figure, verdict, detail))
    return rows


def check_point(record: Record, gpu: bool) -> Check:
    """One training point: it ran, with speed, CI, compile time, memory and 0 < MFU < 1."""
    name = f"{record['model']} {record['mode']}"
    if record["status"] != "ok":
        return Check(name, record["backend"], record["precision"], "-", FAIL, error_line(record))
    parts, problems = [speed_figure(record)], []
    memory = record.get("peak_device_memory_bytes")
    if memory is not None:
        parts.append(f"mem {_mib(memory)}")
    elif gpu:
        problems.append("no allocator peak (peak_device_memory_bytes is None)")
    compile_s = record.get("compile_time_s")
    parts.append(f"compile {compile_s:.1f} s" if compile_s is not None else "compile ?")
    if compile_s is None:
        problems.append("no compile_time_s")
    mfu, notes = record.get("mfu"), []
    if mfu is None:
        settings = record.get("settings") or {}
        why = settings.get("peak_error") or settings.get("flops_error") or "not computed"
        problems.append(f"no MFU ({why})")
    else:
        parts.append(f"MFU {mfu:.1%} of {record.get('peak_tflops') or 0:.1f} TFLOP/s")
        if not 0 < mfu < 1 and (gpu or mfu <= 0):
            problems.append(f"MFU {mfu:.1%} is not between 0 and 100% (peak measured low?)")
        elif not 0 < mfu < 1:  # a shared CPU's peak, measured while busy, is often low
            notes.append(f"MFU {mfu:.1%} above 100%: gated on GPUs only")
    values = {
        k: record.get(k)
        for k in (
            "samples_per_sec",
            "samples_per_sec_ci",
            "peak_device_memory_bytes",
            "compile_time_s",
            "mfu",
            "peak_tflops",
            "achieved_tflops",
        )
    }
    verdict = FAIL if problems else OK
    return Check(
        name, record["backend"], record["precision"], ", ".join(parts), verdict,
        "; ".join(problems or notes), values,
    )  # fmt: skip


def missing_fields(record: Record, gpu: bool) -> list[str]:
    """The fields an ok record leaves empty that this device kind should fill."""
    wanted = REQUIRED_FIELDS + (GPU_FIELDS if gpu else ())
    missing = [f for f in wanted if record.get(f) is None]
    if not record.get("window_times_s"):
        missing.append("window_times_s")
    settings = record.get("settings") or {}
    if not settings:
        missing.append("settings")
    missing += [f"settings.{k}" for k in ERROR_SETTINGS if k in settings]
    return missing


def check_fields(records: Iterable[Record], gpu: bool) -> list[Check]:
    """No None where the device kind should give a value; on CPU, the GPU-only ones listed."""
    rows = []
    for backend, group in _by_backend(records).items():
        ran = [r for r in group if r["status"] == "ok"]
        gaps = {_what(r): missing_fields(r, gpu) for r in ran}
        gaps = {k: v for k, v in gaps.items() if v}
        count = len(REQUIRED_FIELDS) + 2 + (len(GPU_FIELDS) if gpu else 0)
        if not ran:
            rows.append(Check("record fields filled", backend, "-", "-", FAIL, "no record ran"))
            continue
        if gaps:
            detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in gaps.items())
            figure = f"{len(gaps)}/{len(ran)} records with gaps"
            rows.append(Check("record fields filled", backend, "-", figure, FAIL, detail))
        else:
            figure = f"{count} fields in {len(ran)} records"
            rows.append(Check("record fields filled", backend, "-", figure, OK))
        if not gpu:
            empty = sorted({f for r in ran for f in GPU_FIELDS if r.get(f) is None})
            figure = f"None on cpu: {', '.join(empty)}" if empty else "filled"
            rows.append(Check("GPU-only fields", backend, "-", figure, NA_CPU))
    return rows


def check_sync(
    backend: str,
    precision: str,
    rounds: list[tuple[float, float]],
    gpu: bool,
    reference: str = "every step",
) -> Check:
    """Window-edge sync (kerasbench) against a bare loop's clock: within 2%.

    ``reference`` names the bare loop's clock: "every step" (the device synchronised
    after every step) or "completion clock" (each step's completion noted, nothing
    waiting). ``rounds`` holds (kerasbench, bare) samples/s of neighbouring runs; each
    round's ratio cancels most of the machine's drift, and the median ratio is judged.
    An unsynchronised timer would put kerasbench far above the bare loop; a costly
    synchronisation at every step would put the every-step loop below both.
    """
    name = f"sync: window edges vs {reference}"
    if not rounds:
        return Check(name, backend, precision, "-", FAIL, "no round completed")
    ratios = [k / b for k, b in rounds]
    ratio = statistics.median(ratios)
    ours = statistics.median(k for k, _ in rounds)
    theirs = statistics.median(b for _, b in rounds)
    figure = (
        f"{ours:.1f} vs {theirs:.1f} samples/s, ratio {ratio:.3f}"
        f" (rounds {' '.join(f'{r:.3f}' for r in ratios)})"
    )
    values = {"ratio": ratio, "ratios": ratios, "kerasbench": ours, "bare": theirs}
    if not gpu:  # this shared VM drifts 10-25%: the 2% gate means something on a GPU only
        return Check(name, backend, precision, figure, NA_CPU, "", values)
    off = abs(ratio - 1)
    detail = "" if off <= SYNC_TOLERANCE else f"|ratio - 1| = {off:.1%} > {SYNC_TOLERANCE:.0%}"
    return Check(name, backend, precision, figure, FAIL if detail else OK, detail, values)


def _tf32_state(record: Record) -> tuple[bool | None, str]:
    """(True on, False off, None inconsistent or unrecorded, what the settings say)."""
    settings = record.get("settings") or {}
    asked = settings.get("tf32")
    known = TF32_SETTINGS.get(record["backend"])
    if known is None:
        return (asked if isinstance(asked, bool) else None), f"tf32={asked}"
    key, on_value, off_value = known
    value = settings.get(key)
    said = f"tf32={asked}, {key}={value}"
    if asked is True and value == on_value:
        return True, said
    if asked is False and value == off_value:
        return False, said
    return None, said


def check_tf32_default(records: Iterable[Record]) -> list[Check]:
    """Points run without --tf32 record TF32 off, in the generic and the backend setting."""
    rows = []
    for backend, group in _by_backend(records).items():
        ran = [r for r in group if r["status"] == "ok"]
        states = [(_what(r), *_tf32_state(r)) for r in ran]
        bad = [f"{w}: {said}" for w, state, said in states if state is not False]
        figure = states[0][2] if states else "-"
        verdict = FAIL if bad or not ran else OK
        detail = "; ".join(bad) if bad else ("" if ran else "no record ran")
        rows.append(Check("tf32 off unless asked", backend, "-", figure, verdict, detail))
    return rows


def check_tf32_on(probe: Record, fp32_peak: float | None, gpu: bool) -> list[Check]:
    """A --tf32 point records TF32 on; on a GPU its float32 matmul peak is well above fp32's."""
    backend = probe["backend"]
    if probe["status"] != "ok":
        return [Check("tf32 on with --tf32", backend, "float32", "-", FAIL, error_line(probe))]
    state, said = _tf32_state(probe)
    recorded = Check(
        "tf32 on with --tf32", backend, "float32", said, OK if state is True else FAIL,
        "" if state is True else "the --tf32 point does not record TF32 on",
    )  # fmt: skip
    name, peak = "tf32 raises matmul peak", probe.get("peak_tflops")
    if peak is None or fp32_peak is None:
        why = "no tf32 peak" if peak is None else "no float32 peak without tf32"
        return [recorded, Check(name, backend, "float32", "-", FAIL if gpu else NA_CPU, why)]
    gain = peak / fp32_peak
    figure = f"{peak:.1f} vs {fp32_peak:.1f} TFLOP/s ({gain:.2f}x)"
    values = {"tf32_peak_tflops": peak, "fp32_peak_tflops": fp32_peak, "gain": gain}
    if not gpu:
        return [recorded, Check(name, backend, "float32", figure, NA_CPU, "", values)]
    detail = "" if gain >= TF32_MIN_GAIN else f"gain {gain:.2f}x < {TF32_MIN_GAIN}x"
    verdict = FAIL if detail else OK
    return [recorded, Check(name, backend, "float32", figure, verdict, detail, values)]


def check_data_parallel(one: Record | None, many: Record, devices: int, gpu: bool) -> Check:
    """--devices N ran data-parallel: N devices, the per-device batch kept, faster than one."""
    name = f"data-parallel on {devices} devices"
    backend, precision = many["backend"], many["precision"]
    if many["status"] != "ok":
        return Check(name, backend, precision, "-", FAIL, error_line(many))
    problems = []
    if many.get("devices") != devices:
        problems.append(f"record says devices={many.get('devices')}")
    if one is not None and many.get("per_device_batch_size") != one.get("per_device_batch_size"):
        problems.append(
            f"per-device batch {many.get('per_device_batch_size')} != "
            f"{one.get('per_device_batch_size')} on one device"
        )
    figure = speed_figure(many)
    values: dict[str, Any] = {"samples_per_sec": many["samples_per_sec"], "devices": devices}
    if one is not None and one["status"] == "ok":
        speedup = many["samples_per_sec"] / one["samples_per_sec"]
        values.update(speedup=speedup, efficiency=speedup / devices)
        figure += f", {speedup:.2f}x of 1 device ({speedup / devices:.0%} efficiency)"
        if gpu and speedup <= 1:
            problems.append(f"{devices} GPUs are not faster than one ({speedup:.2f}x)")
    else:
        problems.append("no one-device record to compare with")
    verdict = FAIL if problems else OK
    return Check(name, backend, precision, figure, verdict, "; ".join(problems), values)
