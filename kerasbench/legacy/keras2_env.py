"""The legacy worker's environment: keras.json, the Keras 2 import, device and memory.

Python 3.7 compatible; imports nothing of kerasbench (see ``worker.py``).
"""

import json
import os
import platform
import resource
import sys

LEGACY_BACKENDS = ("mxnet", "tf-keras")


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


# name -> (Keras 2 class, extra arguments, Keras' default learning rate); as the main
# worker's kerasbench.worker.engines.OPTIMIZER_CLASSES. Keras 2.2.4 has no AdamW.
OPTIMIZERS = {
    "sgd": ("SGD", {}, 0.01),
    "momentum": ("SGD", {"momentum": 0.9}, 0.01),
    "rmsprop": ("RMSprop", {}, 0.001),
    "adam": ("Adam", {}, 0.001),
}


def optimizer(keras, name, learning_rate=0.0):
    """The optimizer ``name`` (``OPTIMIZERS``) and its description for the record.

    Keras 2.2.4 calls the learning rate ``lr``, later Keras 2 ``learning_rate``.
    """
    class_name, extra, default = OPTIMIZERS[name or "sgd"]
    rate = learning_rate or default
    cls = getattr(keras.optimizers, class_name)
    try:
        made = cls(learning_rate=rate, **extra)
    except TypeError:
        made = cls(lr=rate, **extra)
    args = ", ".join(f"{k}={v}" for k, v in [("learning_rate", rate), *extra.items()])
    return made, f"{class_name}({args})"
