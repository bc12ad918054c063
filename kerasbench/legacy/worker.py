"""python3.7 kerasbench/legacy/worker.py SPEC_JSON RESULT_JSON [SPEC_JSON RESULT_JSON ...]

The Keras 2 worker: measures benchmark points under keras-mxnet 2.2.4 (backend
``mxnet``, in its own Python 3.7-3.9 environment) or tf-keras (backend
``tf-keras``, Keras 2 on TensorFlow). It speaks the protocol of
``kerasbench.worker.main``: read one Spec from SPEC_JSON, write one raw
measurement, with the same keys, to RESULT_JSON atomically.

It is self-contained and Python-3.7 compatible on purpose: the interpreter that
runs keras-mxnet cannot import the rest of kerasbench (Python 3.10+). The
launcher has set KERAS_BACKEND and a private KERAS_HOME; this worker writes the
point's ``keras.json`` there before it imports Keras, and records it.

Measurement rules are those of ``kerasbench.worker.measure``: the first step on
its own, untimed warm-up, then timed windows with the device synchronised at
their edges. ``train_on_batch`` returns host numbers, so each step ends
synchronised; ``fit`` (and tf-keras' ``predict``) is timed by a callback that
waits for the edge batch's logs on the host and reads the clock; Keras 2.2.4's
``predict`` takes no callbacks, so there each window is one ``predict`` call
over the window's batches (which returns host arrays).

Several SPEC/RESULT pairs measure several points of the same backend in one
process, one after the other (the tests use this to save interpreter starts).
Only the first point's peak host memory is its own; later points report none.
"""

import json
import math
import os
import platform
import resource
import sys
import time
import traceback

PROTOCOL = 1
# Upper bound on distinct in-memory batches; longer runs cycle through them.
MAX_ARRAY_BYTES = 1 << 30
LEGACY_BACKENDS = ("mxnet", "tf-keras")
MODES = ("fit", "train_on_batch", "predict")
SEQUENCE_SHAPE = (40, 60)  # the seed's synthetic sequence task: 40 steps of 60 features


# ----------------------------------------------------------------------------- models
# Each builder takes the imported Keras 2 module and the spec, and returns an
# uncompiled model with the same architecture as the Keras 3 file of that name.


def _mnist_mlp(keras, spec, shape, classes):
    layers = keras.layers
    return keras.models.Sequential(
        [
            layers.Dense(512, activation="relu", input_shape=shape),
            layers.Dropout(0.2),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(classes, activation="softmax"),
        ],
        name="mnist_mlp",
    )


def _cifar10_cnn(keras, spec, shape, classes):
    layers = keras.layers
    fmt = spec["data_format"]
    return keras.models.Sequential(
        [
            layers.Conv2D(
                32, (3, 3), padding="same", activation="relu", data_format=fmt, input_shape=shape
            ),
            layers.Conv2D(32, (3, 3), activation="relu", data_format=fmt),
            layers.MaxPooling2D((2, 2), data_format=fmt),
            layers.Dropout(0.25),
            layers.Conv2D(64, (3, 3), padding="same", activation="relu", data_format=fmt),
            layers.Conv2D(64, (3, 3), activation="relu", data_format=fmt),
            layers.MaxPooling2D((2, 2), data_format=fmt),
            layers.Dropout(0.25),
            layers.Flatten(data_format=fmt),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(classes, activation="softmax"),
        ],
        name="cifar10_cnn",
    )


def _application(name):
    def build(keras, spec, shape, classes):
        return getattr(keras.applications, name)(weights=None, input_shape=shape, classes=classes)

    return build


def _recurrent(layer_name):
    # Not unrolled, like the Keras 3 lstm/gru files (the seed unrolled for keras-mxnet;
    # keras-mxnet 2.2.4.3 runs the rolled layer over fixed-length inputs).
    def build(keras, spec, shape, classes):
        layers = keras.layers
        return keras.models.Sequential(
            [
                getattr(layers, layer_name)(128, input_shape=shape),
                layers.Dense(classes, activation="softmax"),
            ],
            name=layer_name.lower(),
        )

    return build


# name -> (builder, input kind, classes); image sizes come resolved in the spec.
MODELS = {
    "mnist_mlp": (_mnist_mlp, "vector", 10),
    "cifar10_cnn": (_cifar10_cnn, "image", 10),
    "resnet50": (_application("ResNet50"), "image", 1000),
    "vgg16": (_application("VGG16"), "image", 1000),
    "xception": (_application("Xception"), "image", 1000),
    "lstm": (_recurrent("LSTM"), "sequence", SEQUENCE_SHAPE[1]),
    "gru": (_recurrent("GRU"), "sequence", SEQUENCE_SHAPE[1]),
}


def input_shape(spec):
    """Shape of one sample (no batch axis)."""
    kind = MODELS[spec["model"]][1]
    if kind == "image":
        size = spec["image_size"]
        return (3, size, size) if spec["data_format"] == "channels_first" else (size, size, 3)
    if kind == "sequence":
        # ``seq_len`` (when the Spec has it) changes the number of steps, as in Keras 3.
        return (spec.get("seq_len") or SEQUENCE_SHAPE[0], SEQUENCE_SHAPE[1])
    return (784,)


# ----------------------------------------------------------------------------- helpers


def write_json_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def n_windows(spec):
    return int(math.ceil(spec["steps"] / float(spec["window_steps"])))


def total_steps(spec):
    """Every step: the first, the warm-up, and the timed windows."""
    return 1 + spec["warmup"] + n_windows(spec) * spec["window_steps"]


def keras_json(spec):
    """The keras.json this point runs with (written to the private KERAS_HOME)."""
    return {
        "backend": "mxnet" if spec["backend"] == "mxnet" else "tensorflow",
        "image_data_format": spec["data_format"],
        "floatx": "float32",
        "epsilon": 1e-07,
    }


def write_keras_json(spec):
    home = os.environ.get("KERAS_HOME")
    if not home:
        # Never fall back to ~/.keras: a user's settings must not change what is measured.
        raise RuntimeError("KERAS_HOME is not set; the launcher gives each worker its own")
    if not os.path.isdir(home):
        os.makedirs(home)
    settings = keras_json(spec)
    with open(os.path.join(home, "keras.json"), "w") as f:
        json.dump(settings, f)
    return settings


def import_keras(backend):
    """The Keras 2 module of ``backend``."""
    if backend == "mxnet":
        import keras

        if keras.backend.backend() != "mxnet":
            raise RuntimeError(f"keras runs on {keras.backend.backend()!r}, not mxnet")
        return keras
    if backend == "tf-keras":
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import tf_keras

        return tf_keras
    raise ValueError(
        "unknown legacy backend {!r}; valid: {}".format(backend, ", ".join(LEGACY_BACKENDS))
    )


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_names():
    """Names of the visible NVIDIA GPUs (nvidia-smi), honouring CUDA_VISIBLE_DEVICES."""
    import subprocess

    try:
        out = subprocess.check_output(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return []
    names = [line.strip() for line in out.decode("utf-8", "replace").splitlines() if line.strip()]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [int(v) for v in visible.split(",") if v.strip().isdigit()]
        names = [names[i] for i in ids if i < len(names)]
    return names


def describe_device(backend):
    """(device kind, device name, framework version, peak device memory or None)."""
    if backend == "mxnet":
        import mxnet

        if mxnet.context.num_gpus() > 0:
            names = gpu_names() or ["gpu(0)"]
            # MXNet exposes no allocator peak; None means "not measured".
            return "gpu", names[0], mxnet.__version__, None
        return "cpu", cpu_name(), mxnet.__version__, None
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        peak = int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
        return "gpu", details.get("device_name", gpus[0].name), tf.__version__, peak
    return "cpu", cpu_name(), tf.__version__, None


def peak_host_memory_bytes():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def sgd(keras):
    """SGD, learning rate 0.01 (Keras 2.2.4 calls it ``lr``, later Keras 2 ``learning_rate``)."""
    try:
        return keras.optimizers.SGD(learning_rate=0.01)
    except TypeError:
        return keras.optimizers.SGD(lr=0.01)


# ----------------------------------------------------------------------------- timing


class Timing:
    def __init__(self, time_to_first_step_s, first_step_s, window_times_s):
        self.time_to_first_step_s = time_to_first_step_s
        self.first_step_s = first_step_s
        self.window_times_s = window_times_s


def time_step_loop(step, spec, build_started):
    """Time ``step(i)``, which returns only when step ``i`` is done."""
    started = time.perf_counter()
    step(0)
    first_done = time.perf_counter()
    for i in range(1, 1 + spec["warmup"]):
        step(i)
    windows = []
    i = 1 + spec["warmup"]
    for _ in range(n_windows(spec)):
        start = time.perf_counter()
        for _ in range(spec["window_steps"]):
            step(i)
            i += 1
        windows.append(time.perf_counter() - start)
    return Timing(first_done - build_started, first_done - started, windows)


def window_edges(spec):
    """Batch indices after which the clock is read: the first step, then each window edge."""
    first_edge = spec["warmup"]  # the last untimed batch (batch 0 is the first step)
    return [0] + [first_edge + j * spec["window_steps"] for j in range(n_windows(spec) + 1)]


def _sync(logs):
    """Wait for a batch's outputs by reading its logs on the host (Keras 2.2.4: already numbers)."""
    for value in (logs or {}).values():
        if hasattr(value, "numpy"):
            value.numpy()


def batch_clock(keras, total, batches_per_epoch, edges):
    """A callback that reads the clock after each edge batch, synchronised; stops after ``total``.

    Keras 2 calls batch hooks on the main thread. ``_supports_tf_logs`` tells
    tf-keras to pass the logs as tensors instead of converting them (which
    would wait for the device after every batch); the clock waits for them at
    window edges only. Keras 2.2.4's own loop already returns host numbers for
    every batch, a cost its users pay too.
    """
    edge_set = set(edges)

    class BatchClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self._supports_tf_logs = True
            self.offset = 0
            self.times = {}

        def on_epoch_begin(self, epoch, logs=None):
            self.offset = epoch * batches_per_epoch

        def _done(self, batch, logs):
            index = self.offset + batch
            if index in edge_set:
                _sync(logs)
                self.times[index] = time.perf_counter()
            if index + 1 >= total:
                self.model.stop_training = True

        def on_batch_end(self, batch, logs=None):
            self._done(batch, logs)

        def on_predict_batch_end(self, batch, logs=None):
            self._done(batch, logs)

    return BatchClock()


def timing_from_clock(times, spec, build_started, loop_started):
    """Windows between the clock readings at consecutive window edges."""
    edges = window_edges(spec)
    missing = [e for e in edges if e not in times]
    if missing:
        raise RuntimeError(f"Keras ran fewer batches than asked (batch {missing[0]} missing)")
    timed = edges[1:]
    windows = [times[b] - times[a] for a, b in zip(timed, timed[1:])]
    return Timing(times[0] - build_started, times[0] - loop_started, windows)


def time_fit(keras, model, x, y, spec, build_started):
    batch = spec["batch_size"]
    total = total_steps(spec)
    per_epoch = len(x) // batch
    clock = batch_clock(keras, total, per_epoch, window_edges(spec))
    started = time.perf_counter()
    model.fit(
        x,
        y,
        batch_size=batch,
        epochs=int(math.ceil(total / float(per_epoch))),
        shuffle=False,
        verbose=0,
        callbacks=[clock],
    )
    return timing_from_clock(clock.times, spec, build_started, started)


def predict_takes_callbacks(model):
    import inspect

    try:
        return "callbacks" in inspect.signature(model.predict).parameters
    except (TypeError, ValueError):
        return False


def time_predict(keras, model, x, spec, build_started):
    """Time ``predict``: with a batch clock where Keras 2 supports it, else per window."""
    import numpy as np

    batch = spec["batch_size"]
    total = total_steps(spec)
    per_call = len(x) // batch
    if predict_takes_callbacks(model):
        clock = batch_clock(keras, total, per_call, window_edges(spec))
        started = time.perf_counter()
        for call in range(int(math.ceil(total / float(per_call)))):
            clock.offset = call * per_call
            remaining = min(per_call, total - clock.offset)
            model.predict(x[: remaining * batch], batch_size=batch, verbose=0, callbacks=[clock])
        return timing_from_clock(
            clock.times, spec, build_started, started
        ), "batch clock at window edges"

    def batches(first, count):
        # The inputs of ``count`` batches from batch ``first`` on, cycling; copied
        # before the clock starts.
        return x[np.arange(first * batch, (first + count) * batch) % len(x)]

    started = time.perf_counter()
    model.predict(batches(0, 1), batch_size=batch)
    first_done = time.perf_counter()
    if spec["warmup"]:
        model.predict(batches(1, spec["warmup"]), batch_size=batch)
    windows = []
    first = 1 + spec["warmup"]
    for _ in range(n_windows(spec)):
        inputs = batches(first, spec["window_steps"])
        start = time.perf_counter()
        model.predict(inputs, batch_size=batch)
        windows.append(time.perf_counter() - start)
        first += spec["window_steps"]
    timing = Timing(first_done - build_started, first_done - started, windows)
    return timing, "one predict() call per window (this Keras' predict takes no callbacks)"


# ----------------------------------------------------------------------------- one point


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


def run_point(spec, keras, first_in_process):
    """Build, compile and time one point under the imported Keras 2; returns the raw measurement."""
    import numpy as np

    check_spec(spec)
    backend = spec["backend"]
    builder, _, classes = MODELS[spec["model"]]
    keras.backend.clear_session()
    keras.backend.set_image_data_format(spec["data_format"])
    np.random.seed(spec["seed"])
    if backend == "tf-keras":
        keras.utils.set_random_seed(spec["seed"])
        keras.mixed_precision.set_global_policy(spec.get("precision", "float32"))
    else:
        import mxnet

        mxnet.random.seed(spec["seed"])

    batch = spec["batch_size"]
    shape = input_shape(spec)
    sample_bytes = 4 * int(np.prod(shape))
    n_distinct = max(1, min(total_steps(spec), MAX_ARRAY_BYTES // (sample_bytes * batch)))
    generated = time.perf_counter()
    # The same generator and calls as kerasbench.data.synthetic: the same data for a seed.
    rng = np.random.default_rng(spec["seed"])
    n = n_distinct * batch
    x = rng.random((n,) + tuple(shape), dtype=np.float32)
    y = rng.integers(0, classes, size=(n,), dtype=np.int32)
    # Time to first step counts from here: model build, compile and the first step.
    data_ready = time.perf_counter()

    model = builder(keras, spec, shape, classes)
    settings = {}
    compile_kwargs = {}
    devices = spec.get("devices", 1)
    if backend == "mxnet":
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
    model.compile(optimizer=sgd(keras), loss="sparse_categorical_crossentropy", **compile_kwargs)

    mode = spec["mode"]
    if mode == "train_on_batch":

        def step(i):
            j = (i % n_distinct) * batch
            return model.train_on_batch(x[j : j + batch], y[j : j + batch])

        timing = time_step_loop(step, spec, data_ready)
        settings["timing"] = "train_on_batch returns host values: each step ends synchronised"
    elif mode == "fit":
        timing = time_fit(keras, model, x, y, spec, data_ready)
        settings["timing"] = "batch clock at window edges"
    else:
        timing, how = time_predict(keras, model, x, spec, data_ready)
        settings["timing"] = how

    kind, name, version, device_peak = describe_device(backend)
    if backend == "tf-keras":
        # tf-keras compiles with XLA only when jit_compile is true (None means off).
        settings["jit_compile_resolved"] = bool(getattr(model, "_jit_compile", None))
        settings["dtype_policy"] = keras.mixed_precision.global_policy().name
    else:
        settings["dtype_policy"] = keras.backend.floatx()
    settings.update(
        {
            "image_data_format": keras.backend.image_data_format(),
            "optimizer": "SGD(learning_rate=0.01)",
            "loss": "sparse_categorical_crossentropy",
            "distinct_batches": n_distinct,
            "data_generation_s": round(data_ready - generated, 3),
            "keras_package": "keras-mxnet" if backend == "mxnet" else "tf-keras",
            "numpy_version": np.__version__,
            "legacy_worker": True,
        }
    )
    return {
        "protocol": PROTOCOL,
        "status": "ok",
        "error": None,
        "window_times_s": timing.window_times_s,
        "time_to_first_step_s": timing.time_to_first_step_s,
        "first_step_s": timing.first_step_s,
        # ru_maxrss is a process-wide peak: only the process's first point owns it.
        "peak_host_memory_bytes": peak_host_memory_bytes() if first_in_process else None,
        "peak_device_memory_bytes": device_peak if first_in_process else None,
        "device_kind": kind,
        "device_name": name,
        "keras_version": keras.__version__,
        "backend_version": version,
        "python_version": platform.python_version(),
        "settings": settings,
    }


def failure(exc):
    return {
        "protocol": PROTOCOL,
        "status": "failed",
        "error": (f"{type(exc).__name__}: {exc}").splitlines()[0][:500],
        "python_version": platform.python_version(),
    }


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
    keras = None
    backend = None
    json_settings = None
    import_s = None
    all_ok = True
    for index, (spec_path, result_path) in enumerate(pairs):
        try:
            spec = read_spec(spec_path)
            check_spec(spec)
            if keras is None:
                backend = spec["backend"]
                json_settings = write_keras_json(spec)
                started = time.perf_counter()
                keras = import_keras(backend)
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
