"""python -m kerasbench.worker SPEC_JSON RESULT_JSON

The worker protocol: read one Spec from SPEC_JSON, measure it, write one raw
measurement to RESULT_JSON (atomically: a reader sees all of it or nothing).
Files, not stdout, carry the protocol, so framework log noise cannot corrupt
it. The launcher has already set KERAS_BACKEND and a private KERAS_HOME.

Raw measurement keys: protocol, status, error, window_times_s,
losses (optional), time_to_first_step_s, first_step_s, peak_host_memory_bytes,
peak_device_memory_bytes, device_kind, device_name, keras_version,
backend_version, python_version, settings, items_per_step (what one step
processes: the batch, or for generate the new tokens of the batch),
throughput_unit ("samples/s" or "tokens/s"), stop_reason,
forward_flops_per_sample, flops_uncounted, peak_tflops.
"""

from __future__ import annotations

import faulthandler
import json
import os
import platform
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from kerasbench.axes import unsupported_error
from kerasbench.data import synthetic
from kerasbench.models import get_model
from kerasbench.spec import Spec
from kerasbench.worker import distributed, faults, flops, generate, inputs, measure, memory, peak
from kerasbench.worker import settings as explicit_settings
from kerasbench.worker.device import describe

PROTOCOL = 1


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _jit_arg(value: str) -> bool | str:
    return {"auto": "auto", "on": True, "off": False}[value]


def run_point(spec: Spec) -> dict[str, Any]:
    """Build, compile and time one point; returns the raw measurement."""
    import_started = time.perf_counter()
    import keras

    kind, name, version = describe(spec.backend)
    if spec.device_kind == "gpu" and kind != "gpu":
        # Fail now, rather than file a CPU measurement as a GPU one.
        raise RuntimeError(
            f"backend {spec.backend} found no GPU although device_kind is gpu "
            "(check the driver, the framework's CUDA build and CUDA_VISIBLE_DEVICES)"
        )
    explicit_settings.seed(spec.seed, spec.backend)
    keras.config.set_image_data_format(spec.data_format)
    applied = explicit_settings.apply(spec)  # TF32, XLA auto-clustering, precision policy

    info = get_model(spec.model)
    n_distinct = synthetic.distinct_batches(info, spec, measure.total_steps(spec))
    imported = time.perf_counter()
    fed = None
    if inputs.uses_pipeline(spec):  # a real dataset, a loader, or input_only
        fed = inputs.open_input(info, spec)
        info = fed.info  # a text file brings its own vocabulary
    else:
        x, y = synthetic.make_arrays(info, spec, n_distinct)
    # Time to first step counts from here: model build, compile and the first step,
    # not the import of the framework nor the making of synthetic data.
    data_ready = time.perf_counter()

    model = None if spec.mode == "input_only" else info.build(spec)
    if model is not None:
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=0.01),
            loss=info.make_loss(),
            jit_compile=_jit_arg(spec.jit_compile),
        )
    # Throughput is counted in samples per step, except for generate (new tokens).
    items_per_step, unit, extra_settings = spec.batch_size, "samples/s", {}

    losses: list[float] = []  # train_on_batch's loss of every step, host values already
    if fed is not None:
        timing = inputs.time_mode(model, fed, spec, data_ready)
    elif spec.mode == "train_on_batch":

        def step(i: int) -> Any:
            j = (i % n_distinct) * spec.batch_size
            loss = model.train_on_batch(x[j : j + spec.batch_size], y[j : j + spec.batch_size])
            losses.append(float(loss))
            return loss

        timing = measure.time_step_loop(step, spec, data_ready)
    elif spec.mode == "fit":
        timing = measure.time_fit(model, x, y, spec, data_ready)
    elif spec.mode == "predict":
        timing = measure.time_predict(model, x, spec, data_ready)
    elif spec.mode == "generate":
        step, plan = generate.make_step(model, spec, x, _jit_arg(spec.jit_compile))
        timing = measure.time_step_loop(step, spec, data_ready)
        items_per_step, unit = spec.batch_size * plan.new_tokens, "tokens/s"
        extra_settings = {
            "prompt_len": plan.prompt_len,
            "new_tokens": plan.new_tokens,
            "decoding": "greedy, no KV cache, fixed-length buffer",
        }
    else:  # Spec validation makes this unreachable
        raise ValueError(f"unknown mode {spec.mode!r}")

    # Memory first: the FLOP count and the peak benchmark below allocate too.
    peak_host = memory.peak_host_memory_bytes()
    peak_device = memory.peak_device_memory_bytes(spec.backend)
    work = _count_work(model, None if fed else x[:1], spec, kind, name, version)
    settings = {
        "jit_compile_resolved": _resolved_jit(model),
        "dtype_policy": keras.mixed_precision.global_policy().name,
        "image_data_format": keras.config.image_data_format(),
        "optimizer": "SGD(learning_rate=0.01)",
        "loss": info.loss_name,
        "distinct_batches": n_distinct,
        "import_s": round(imported - import_started, 3),
        "data_generation_s": round(data_ready - imported, 3),
        **(fed.settings if fed else {}),
        **extra_settings,
        **applied,
        **work.pop("settings"),
    }
    return {
        "protocol": PROTOCOL,
        "status": "ok",
        "error": None,
        "window_times_s": timing.window_times_s,
        "losses": losses,
        "time_to_first_step_s": timing.time_to_first_step_s,
        "first_step_s": timing.first_step_s,
        "peak_host_memory_bytes": peak_host,
        "peak_device_memory_bytes": peak_device,
        "stop_reason": timing.stop_reason,
        **work,
        "device_kind": kind,
        "device_name": name,
        "keras_version": keras.__version__,
        "backend_version": version,
        "python_version": platform.python_version(),
        "settings": settings,
        "input_wait_fraction": fed.input_wait_fraction if fed else None,
        "skipped_files": fed.skipped_files if fed else None,
        "items_per_step": items_per_step,
        "throughput_unit": unit,
    }


def _count_work(
    model: Any, sample: Any | None, spec: Spec, kind: str, name: str, version: str
) -> dict[str, Any]:
    """Forward FLOPs per sample and the device's matmul peak, after the timed windows.

    A failure here costs the point its MFU, never its timings.
    """
    work: dict[str, Any] = {"settings": {}}
    if model is None:  # input_only: no model, no FLOPs
        return work
    try:
        if sample is None:  # fed by a pipeline: a zero sample of the model's input
            import numpy as np

            spec_in = model.inputs[0]
            sample = np.zeros((1, *spec_in.shape[1:]), dtype=str(spec_in.dtype))
        counted = flops.count_forward(model, sample)
        work["forward_flops_per_sample"] = counted.flops
        work["flops_uncounted"] = counted.uncounted
    except Exception as exc:
        work["settings"]["flops_error"] = f"{type(exc).__name__}: {exc}"[:300]
    try:
        found = peak.peak_tflops(spec, kind, name, version)
        work["peak_tflops"] = found["peak_tflops"]
        work["settings"]["peak_source"] = found["peak_source"]
    except Exception as exc:
        work["settings"]["peak_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return work


def _resolved_jit(model: Any) -> Any:
    value = getattr(model, "jit_compile", None)
    return value if isinstance(value, (bool, str)) or value is None else str(value)


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
        data_parallel = distributed.is_data_parallel(spec)
        if data_parallel:
            raw = distributed.run_point(spec)
        else:
            raw = run_point(spec)
    except Exception as exc:  # every failure becomes a result, never a lost point
        traceback.print_exc()
        skip = unsupported_error(exc)  # a combination the backend cannot run is skipped
        raw = {
            "protocol": PROTOCOL,
            "status": "skipped" if skip else "failed",
            "error": skip or f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
            "python_version": platform.python_version(),
        }
    if distributed.writes_result():  # one writer per host, also under torchrun
        write_json_atomic(result_path, raw)
    if data_parallel and raw["status"] not in ("ok", "skipped"):
        distributed.exit_at_once(1)
    return 0 if raw["status"] in ("ok", "skipped") else 1
