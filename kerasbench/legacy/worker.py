"""python3.7 kerasbench/legacy/worker.py SPEC_JSON RESULT_JSON [SPEC_JSON RESULT_JSON ...]

The Keras 2 worker: measures benchmark points under keras-mxnet 2.2.4 (backend
``mxnet``, in its own Python 3.7-3.9 environment) or tf-keras (backend
``tf-keras``, Keras 2 on TensorFlow). It speaks the protocol of
``kerasbench.worker.protocol``: read one Spec from SPEC_JSON, write one raw
measurement, with the same keys (``RECORD_KEYS``), to RESULT_JSON atomically.

It is Python-3.7 compatible and imports nothing of kerasbench on purpose: the
interpreter that runs keras-mxnet cannot import the rest of kerasbench (Python
3.10+). Its parts sit beside it (``keras2_models``, ``keras2_timing``,
``keras2_env``); the launcher runs it as a script under ``python -I``, which
puts no folder on sys.path, so it adds its own. The launcher has set
KERAS_BACKEND and a private KERAS_HOME; this worker writes the point's
``keras.json`` there before it imports Keras, and records it.

Several SPEC/RESULT pairs measure several points of the same backend in one
process, one after the other (the tests use this to save interpreter starts).
Only the first point's peak host memory is its own; later points report none.
"""

import json
import os
import platform
import sys
import time
import traceback

try:  # imported as kerasbench.legacy.worker (the launcher reads MODELS and MODES)
    from . import keras2_env as env
    from . import keras2_models as models
    from . import keras2_timing as timing
except ImportError:  # run as a script: python -I puts no folder on sys.path
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    import keras2_env as env
    import keras2_models as models
    import keras2_timing as timing

PROTOCOL = 1
# The protocol's fields (kerasbench.worker.protocol.RawMeasurement); a test pins them equal.
RECORD_KEYS = (
    "status",
    "protocol",
    "error",
    "window_times_s",
    "losses",
    "time_to_first_step_s",
    "first_step_s",
    "peak_host_memory_bytes",
    "peak_device_memory_bytes",
    "device_kind",
    "device_name",
    "keras_version",
    "backend_version",
    "python_version",
    "settings",
    "items_per_step",
    "throughput_unit",
    "stop_reason",
    "forward_flops_per_sample",
    "flops_uncounted",
    "peak_tflops",
    "input_wait_fraction",
    "skipped_files",
    # serving scenarios (issue 17): the legacy worker measures none of them
    "p50_ms",
    "p50_ci_ms",
    "p90_ms",
    "p90_ci_ms",
    "p99_ms",
    "p99_ci_ms",
    "max_latency_ms",
    "n_requests",
    "achieved_qps",
    "n_dropped",
    "n_late",
    "peak_qps",
    "runtime",
    "runtime_variant",
    "export_s",
    "artifact_bytes",
    "max_rel_error",
    "floor_p50_ms",
    "floor_max_qps",
    "floor_flags",
    "model_sha256",
    "params",
    "input_signature",
    "time_to_first_token_s",
    "time_per_output_token_s",
    "trainable_params",
    # generation latency of causal LMs (issue 17): the legacy worker measures none of them
    "ttft_p50_ms",
    "ttft_p50_ci_ms",
    "ttft_p90_ms",
    "ttft_p90_ci_ms",
    "ttft_p99_ms",
    "ttft_p99_ci_ms",
    "tpot_p50_ms",
    "tpot_p50_ci_ms",
    "tpot_p90_ms",
    "tpot_p90_ci_ms",
    "tpot_p99_ms",
    "tpot_p99_ci_ms",
)
# Upper bound on distinct in-memory batches; longer runs cycle through them.
MAX_ARRAY_BYTES = 1 << 30
LEGACY_BACKENDS = env.LEGACY_BACKENDS
MODES = ("fit", "train_on_batch", "predict")
MODELS = models.MODELS


def record(**values):
    """One protocol record: every key, "not measured" where ``values`` has none."""
    unknown = sorted(set(values) - set(RECORD_KEYS))
    if unknown:
        raise ValueError("not protocol keys: {}".format(", ".join(unknown)))
    out = dict.fromkeys(RECORD_KEYS)
    out.update(protocol=PROTOCOL, window_times_s=[], losses=[], flops_uncounted=[], settings={})
    out.update(floor_flags=[])
    out.update(values)
    return out


def write_json_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def check_spec(spec):
    """Refuse what this worker cannot measure, naming the key (the launcher skips these first)."""
    if spec["backend"] not in LEGACY_BACKENDS:
        raise ValueError("backend: {!r} is not a legacy backend".format(spec["backend"]))
    if spec["model"] not in MODELS:
        raise ValueError(
            "model: {!r} has no Keras 2 version here; valid: {}".format(
                spec["model"], ", ".join(sorted(MODELS))
            )
        )
    if spec["mode"] not in MODES:
        raise ValueError("mode: {!r}; valid: {}".format(spec["mode"], ", ".join(MODES)))
    if spec.get("dataset", "synthetic") != "synthetic":
        raise ValueError("dataset: the legacy worker measures synthetic data only")
    if spec["backend"] == "mxnet" and spec.get("precision", "float32") != "float32":
        raise ValueError("precision: keras-mxnet runs float32 only")


def seed_and_policy(keras, spec):
    """Seed every generator the point uses; set the data format and the dtype policy."""
    import numpy as np

    keras.backend.clear_session()
    keras.backend.set_image_data_format(spec["data_format"])
    np.random.seed(spec["seed"])
    if spec["backend"] == "tf-keras":
        keras.utils.set_random_seed(spec["seed"])
        keras.mixed_precision.set_global_policy(spec.get("precision", "float32"))
    else:
        import mxnet

        mxnet.random.seed(spec["seed"])


def make_arrays(spec, shape, classes):
    """(x, y, distinct batches): the same generator and calls as kerasbench.data.synthetic."""
    import numpy as np

    batch = spec["batch_size"]
    sample_bytes = 4 * int(np.prod(shape))
    n_distinct = max(1, min(timing.total_steps(spec), MAX_ARRAY_BYTES // (sample_bytes * batch)))
    rng = np.random.default_rng(spec["seed"])
    n = n_distinct * batch
    x = rng.random((n,) + tuple(shape), dtype=np.float32)
    y = rng.integers(0, classes, size=(n,), dtype=np.int32)
    return x, y, n_distinct


def compile_model(keras, model, spec, settings):
    """Compile with the point's optimizer; place keras-mxnet's model on its context.
    Returns the model."""
    compile_kwargs = {}
    devices = spec.get("devices", 1)
    if spec["backend"] == "mxnet":
        import mxnet

        gpus = mxnet.context.num_gpus()  # 0 on a CPU build, whatever the host has
        if spec.get("device_kind") == "gpu" and gpus < devices:
            raise RuntimeError(
                f"device_kind: gpu asked, but this MXNet sees {gpus} GPU(s); "
                "a CUDA build comes from: kerasbench setup mxnet --cuda VERSION"
            )
        if devices > 1:
            # keras-mxnet's multi_gpu_model sets the model's MXNet context to
            # ``devices`` GPUs (data parallel); untested here, where no GPU exists.
            model = keras.utils.multi_gpu_model(model, gpus=devices)
            settings["multi_gpu_model"] = devices
        else:
            # An explicit context: keras-mxnet's default asks nvidia-smi, which
            # ignores CUDA_VISIBLE_DEVICES and picks a GPU a CPU build cannot use.
            compile_kwargs["context"] = ["gpu(0)"] if gpus else ["cpu"]
            settings["mxnet_context"] = compile_kwargs["context"][0]
    else:
        if devices > 1:
            raise ValueError("devices: tf-keras points run on one device here")
        jit = {"auto": None, "on": True, "off": False}[spec.get("jit_compile", "auto")]
        compile_kwargs["jit_compile"] = jit
    loss = "sparse_categorical_crossentropy"
    made, settings["optimizer"] = env.optimizer(
        keras, spec.get("optimizer") or "sgd", spec.get("learning_rate") or 0.0
    )
    model.compile(optimizer=made, loss=loss, **compile_kwargs)
    return model


def time_mode(keras, model, x, y, n_distinct, spec, data_ready):
    """(Timing, how it was timed) of the spec's mode."""
    batch = spec["batch_size"]
    if spec["mode"] == "train_on_batch":

        def step(i):
            j = (i % n_distinct) * batch
            return model.train_on_batch(x[j : j + batch], y[j : j + batch])

        how = "train_on_batch returns host values: each step ends synchronised"
        return timing.time_step_loop(step, spec, data_ready), how
    if spec["mode"] == "fit":
        return timing.time_fit(keras, model, x, y, spec, data_ready), "batch clock at window edges"
    return timing.time_predict(keras, model, x, spec, data_ready)


def run_point(spec, keras, first_in_process):
    """Build, compile and time one point under the imported Keras 2; returns the raw record."""
    import numpy as np

    check_spec(spec)
    backend = spec["backend"]
    builder, _, classes = MODELS[spec["model"]]
    seed_and_policy(keras, spec)
    shape = models.input_shape(spec)
    generated = time.perf_counter()
    x, y, n_distinct = make_arrays(spec, shape, classes)
    # Time to first step counts from here: model build, compile and the first step.
    data_ready = time.perf_counter()
    settings = {}
    model = compile_model(keras, builder(keras, spec, shape, classes), spec, settings)
    timed, settings["timing"] = time_mode(keras, model, x, y, n_distinct, spec, data_ready)

    kind, name, version, device_peak = env.describe_device(backend)
    if backend == "tf-keras":
        # tf-keras compiles with XLA only when jit_compile is true (None means off).
        settings["jit_compile_resolved"] = bool(getattr(model, "_jit_compile", None))
        settings["dtype_policy"] = keras.mixed_precision.global_policy().name
    else:
        settings["dtype_policy"] = keras.backend.floatx()
    settings.update(
        {
            "image_data_format": keras.backend.image_data_format(),
            "loss": "sparse_categorical_crossentropy",
            "distinct_batches": n_distinct,
            "data_generation_s": round(data_ready - generated, 3),
            "keras_package": "keras-mxnet" if backend == "mxnet" else "tf-keras",
            "numpy_version": np.__version__,
            "legacy_worker": True,
        }
    )
    return record(
        status="ok",
        window_times_s=timed.window_times_s,
        time_to_first_step_s=timed.time_to_first_step_s,
        first_step_s=timed.first_step_s,
        # ru_maxrss is a process-wide peak: only the process's first point owns it.
        peak_host_memory_bytes=env.peak_host_memory_bytes() if first_in_process else None,
        peak_device_memory_bytes=device_peak if first_in_process else None,
        device_kind=kind,
        device_name=name,
        keras_version=keras.__version__,
        backend_version=version,
        python_version=platform.python_version(),
        settings=settings,
        items_per_step=spec["batch_size"],
        throughput_unit="samples/s",
        stop_reason="steps",
    )


def failure(exc):
    return record(
        status="failed",
        error=(f"{type(exc).__name__}: {exc}").splitlines()[0][:500],
        python_version=platform.python_version(),
    )


def read_spec(path):
    with open(path) as f:
        payload = json.load(f)
    spec = payload["spec"]
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: spec is not an object")
    return spec


def main(argv):
    if not argv or len(argv) % 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    pairs = list(zip(argv[::2], argv[1::2]))
    keras = backend = json_settings = import_s = None
    all_ok = True
    for index, (spec_path, result_path) in enumerate(pairs):
        try:
            spec = read_spec(spec_path)
            check_spec(spec)
            if keras is None:
                backend = spec["backend"]
                json_settings = env.write_keras_json(spec)
                started = time.perf_counter()
                keras = env.import_keras(backend)
                import_s = round(time.perf_counter() - started, 3)
            elif spec["backend"] != backend:
                raise ValueError(f"backend: one process runs one backend ({backend})")
            raw = run_point(spec, keras, first_in_process=index == 0)
            raw["settings"]["keras_json"] = json_settings
            raw["settings"]["import_s"] = import_s
            raw["settings"]["point_in_process"] = index + 1
        except Exception as exc:  # every failure becomes a result, never a lost point
            traceback.print_exc()
            raw = failure(exc)
        all_ok = all_ok and raw["status"] == "ok"
        write_json_atomic(result_path, raw)
        sys.stdout.flush()
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
