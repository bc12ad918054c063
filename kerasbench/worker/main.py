"""python -m kerasbench.worker SPEC_JSON RESULT_JSON

The worker: read one Spec from SPEC_JSON, measure it, write one
``kerasbench.worker.protocol.RawMeasurement`` to RESULT_JSON (atomically: a
reader sees all of it or nothing). Files, not stdout, carry the protocol, so
framework log noise cannot corrupt it. The launcher has already set
KERAS_BACKEND and a private KERAS_HOME.

Every point, on one device or many, runs the same ``run_point``:
``engine.start`` -> ``prepare`` -> ``engine.load/build/measure`` -> ``finish``
(see ``kerasbench.worker.engines``).
"""

from __future__ import annotations

import faulthandler
import json
import platform
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kerasbench.models import get_model
from kerasbench.spec import Spec
from kerasbench.worker import engines, faults, flops, frameworks, measure, memory, peak, protocol
from kerasbench.worker import settings as explicit_settings
from kerasbench.worker.device import describe
from kerasbench.worker.engines.data_parallel import exit_at_once, writes_result
from kerasbench.worker.protocol import RawMeasurement


@dataclass(frozen=True)
class Prepared:
    """What ``prepare`` set and found: the device, the versions and the explicit settings."""

    device_kind: str
    device_name: str
    backend_version: str
    keras_version: str | None  # None: a native baseline, which imports no Keras
    applied: dict[str, Any]  # TF32, XLA auto-clustering, precision policy (settings.apply)


def prepare(spec: Spec) -> Prepared:
    """Everything every engine does before loading data: device check, seed, data format,
    explicit settings. Runs after ``engine.start`` (which must precede the Keras import).
    A native baseline's point imports no Keras: its runner seeds itself from the Spec."""
    kind, name, version = describe(spec.backend)
    if spec.device_kind == "gpu" and kind != "gpu":
        # Fail now, rather than file a CPU measurement as a GPU one.
        raise RuntimeError(
            f"backend {spec.backend} found no GPU although device_kind is gpu "
            "(check the driver, the framework's CUDA build and CUDA_VISIBLE_DEVICES)"
        )
    if engines.is_native(spec):
        applied = {"tf32": spec.tf32, **frameworks.get(spec.backend).apply_settings(spec)}
        return Prepared(kind, name, version, None, applied)
    import keras

    explicit_settings.seed(spec.seed)  # the same initial weights in every process
    keras.config.set_image_data_format(spec.data_format)
    applied = explicit_settings.apply(spec)
    return Prepared(kind, name, version, keras.__version__, applied)


def run_point(spec: Spec) -> RawMeasurement:
    """Build, compile and time one point on its engine; returns this process's record."""
    engine = engines.engine_for(spec)
    clocks = {"import_started": time.perf_counter()}
    engine.start()
    prepared = prepare(spec)
    info = get_model(spec.model)
    clocks["imported"] = time.perf_counter()
    data = engine.load(info)
    # Time to first step counts from here: model build, compile and the first step,
    # not the import of the framework nor the making of the data.
    clocks["data_ready"] = time.perf_counter()
    model = engine.build(data.info)
    measured = engine.measure(model, data, clocks["data_ready"])
    engine.finish()
    return finish(spec, engine, prepared, model, data, measured, clocks)


def finish(
    spec: Spec,
    engine: engines.Engine,
    prepared: Prepared,
    model: Any,
    data: engines.PointData,
    measured: engines.Measured,
    clocks: dict[str, float],
) -> RawMeasurement:
    """The record of a measured point: memory, work (FLOPs, peak) and every setting."""
    # Memory first: the FLOP count and the peak benchmark below allocate too.
    peak_host = memory.peak_host_memory_bytes()
    peak_device = memory.peak_device_memory_bytes(spec.backend)
    work: dict[str, Any] = {"settings": {}}
    if writes_result():  # a torchrun rank whose record nobody reads skips the work count
        sample = None if data.x is None else measure.take(data.x, 0, 1)
        work = count_work(model, sample, spec, prepared)
    settings = {
        **({} if engines.is_native(spec) else keras_settings(model, data)),
        "distinct_batches": data.n_distinct,
        "import_s": round(clocks["imported"] - clocks["import_started"], 3),
        "data_generation_s": round(clocks["data_ready"] - clocks["imported"], 3),
        **engine.settings(),
        **measured.settings,
        **prepared.applied,
        **measure.stop_settings(spec),
        **work.pop("settings"),
    }
    fed, timing = data.fed, measured.timing
    return RawMeasurement(
        status="ok",
        window_times_s=tuple(measured.window_times_s),
        losses=tuple(measured.losses),
        time_to_first_step_s=timing.time_to_first_step_s,
        first_step_s=timing.first_step_s,
        peak_host_memory_bytes=peak_host,
        peak_device_memory_bytes=peak_device,
        stop_reason=timing.stop_reason,
        device_kind=prepared.device_kind,
        device_name=prepared.device_name,
        keras_version=prepared.keras_version,
        backend_version=prepared.backend_version,
        python_version=platform.python_version(),
        settings=settings,
        input_wait_fraction=fed.input_wait_fraction if fed else None,
        skipped_files=fed.skipped_files if fed else None,
        items_per_step=measured.items_per_step or spec.batch_size,
        throughput_unit=measured.throughput_unit,
        **_identity(model, measured.record),
        **work,
    )


def keras_settings(model: Any, data: engines.PointData) -> dict[str, Any]:
    """What a Keras point records about its compile (a native runner records its own)."""
    import keras

    return {
        "jit_compile_resolved": engines.resolved_jit(model),
        "dtype_policy": keras.mixed_precision.global_policy().name,
        "image_data_format": keras.config.image_data_format(),
        "optimizer": _optimizer(model),
        "loss": data.info.loss_name,
    }


def _identity(model: Any, record: dict[str, Any]) -> dict[str, Any]:
    """The engine's extra record fields, with the parameter count of any model."""
    record = dict(record)
    if model is not None and "params" not in record:
        try:
            record["params"] = int(model.count_params())
        except Exception:  # an unbuilt model has no count; the record says None
            pass
    return record


def _optimizer(model: Any) -> str | None:
    """The compiled model's optimizer as recorded (None: not compiled, e.g. predict only)."""
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    return engines.describe_optimizer(optimizer) if optimizer is not None else None


def count_work(model: Any, sample: Any | None, spec: Spec, prepared: Prepared) -> dict[str, Any]:
    """Forward FLOPs per sample and the device's matmul peak, after the timed windows.

    A failure here costs the point its MFU, never its timings.
    """
    work: dict[str, Any] = {"settings": {}}
    if model is None:  # input_only: no model, no FLOPs
        return work
    try:
        if engines.is_native(spec):  # the runner counts its model by flops.py's rules
            work["forward_flops_per_sample"] = float(model.forward_flops_per_sample())
        else:
            if sample is None:  # fed by a pipeline: a zero sample of the model's input
                import numpy as np

                spec_in = model.inputs[0]
                sample = np.zeros((1, *spec_in.shape[1:]), dtype=str(spec_in.dtype))
            counted = flops.count_forward(model, sample)
            if counted.flops and not counted.uncounted:  # a partial count would be wrong
                work["forward_flops_per_sample"] = float(counted.flops)
            work["flops_uncounted"] = tuple(counted.uncounted)
    except Exception as exc:
        work["settings"]["flops_error"] = f"{type(exc).__name__}: {exc}"[:300]
    found = _peak(spec, prepared)
    work["settings"].update(found.pop("settings"))
    return work | found


def _peak(spec: Spec, prepared: Prepared) -> dict[str, Any]:
    """The device's matmul peak for MFU; a failure is recorded in the settings, not raised."""
    work: dict[str, Any] = {"settings": {}}
    try:
        kind, name, version = prepared.device_kind, prepared.device_name, prepared.backend_version
        found = peak.peak_tflops(spec, kind, name, version)
        work["peak_tflops"] = found["peak_tflops"] or None
        work["settings"]["peak_source"] = found["peak_source"]
    except Exception as exc:
        work["settings"]["peak_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return work


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    spec_path, result_path = Path(argv[0]), Path(argv[1])
    # A crash in native code still leaves a Python traceback in the worker's log, and
    # the launcher can ask a hung worker where it hangs (SIGUSR1) before killing it.
    faulthandler.enable()
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    data_parallel = False
    try:
        payload = json.loads(spec_path.read_text(encoding="utf-8"))
        spec = Spec.from_dict(payload["spec"], "worker spec")
        faults.inject(spec.seed)  # test-only; a no-op unless KERASBENCH_DEBUG_FAULTS is set
        data_parallel = engines.is_data_parallel(spec)
        record = run_point(spec)
    except Exception as exc:  # every failure becomes a result, never a lost point
        traceback.print_exc()
        record = protocol.failure(exc)  # a combination the backend cannot run is skipped
    if writes_result():  # one writer per host, also under torchrun
        protocol.write(result_path, record)
    if data_parallel and record.status not in ("ok", "skipped"):
        exit_at_once(1)
    return 0 if record.status in ("ok", "skipped") else 1
