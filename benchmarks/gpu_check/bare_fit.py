"""KERAS_BACKEND=jax python bare_fit.py '{"model": "resnet50", "batch_size": 64, ...}'

The reference side of gpu_check's synchronisation check: ``model.fit`` written
without kerasbench, run twice in one process (the order given by ``first``), each
timed in windows of ``window_steps`` steps after ``warmup`` untimed ones:

- ``every_step``: the device is synchronised after every step, then the clock read;
- ``completion``: nothing waits; a callback on Keras' own callback thread reads the
  clock when each step's loss reaches the host, so the main thread keeps
  dispatching as in a plain ``fit`` (the true throughput of the loop, without the
  cost of a per-step synchronisation, which on a CPU or for short steps is large).

Prints one JSON line: {"every_step": samples/s, "completion": samples/s, "device": ...};
samples/s is the batch over the median per-step time of the windows, the
statistic kerasbench reports.

It does the work a kerasbench ``fit`` point does, written out here on purpose
(not imported from kerasbench) so that it is an independent reference: the same
model from keras.applications or the same MLP, SGD(0.01), sparse categorical
cross-entropy, the data format, precision policy and TF32 off, the same number
of distinct float32 batches in [0, 1) fed as arrays, shuffle off.

How every step is synchronised: the callback is not ``async_safe``, so Keras turns
each step's loss into a Python number on the main thread before calling it, which
waits for the whole compiled step (JAX runs a step as one XLA executable whose
outputs become ready together); on PyTorch with CUDA the callback also calls
``torch.cuda.synchronize()``. Only then is the clock read.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
from typing import Any

# model -> (input shape without the image size, classes); images are square
MODELS = {"resnet50": ("image", 1000), "resnet50_tiny": ("image", 10), "mnist_mlp": ("mlp", 10)}
PARAMS = ("model", "batch_size", "image_size", "precision", "data_format", "steps", "warmup")
PARAMS += ("window_steps", "distinct_batches", "seed", "first")
VARIANTS = ("every_step", "completion")


def build(model: str, image_size: int, data_format: str) -> tuple[Any, tuple[int, ...]]:
    """The Keras model and the shape of one input sample."""
    import keras
    from keras import layers

    kind, classes = MODELS[model]
    if kind == "mlp":
        net = keras.Sequential(
            [
                keras.Input((784,)),
                layers.Dense(512, activation="relu"),
                layers.Dropout(0.2),
                layers.Dense(512, activation="relu"),
                layers.Dropout(0.2),
                layers.Dense(classes, activation="softmax"),
            ]
        )
        return net, (784,)
    last = data_format == "channels_last"
    shape = (image_size, image_size, 3) if last else (3, image_size, image_size)
    net = keras.applications.ResNet50(weights=None, input_shape=shape, classes=classes)
    return net, shape


def tf32_off(backend: str) -> str:
    """Disable TF32 as kerasbench does without --tf32; returns the device the backend uses."""
    if backend == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "float32")
        return jax.devices()[0].platform
    if backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")
        return "gpu" if torch.cuda.is_available() else "cpu"
    raise SystemExit(f"bare_fit: backend {backend!r} is not jax or torch")


def device_sync(backend: str) -> Any:
    """A function that waits for the device, beyond the loss Keras already fetched."""
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.synchronize
    return lambda: None


def main(p: dict[str, Any]) -> dict[str, Any]:
    import keras
    import numpy as np

    backend = keras.backend.backend()
    device = tf32_off(backend)
    keras.config.set_image_data_format(p["data_format"])
    keras.mixed_precision.set_global_policy(p["precision"])
    model, shape = build(p["model"], p["image_size"], p["data_format"])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        jit_compile="auto",
    )
    batch, n = p["batch_size"], p["distinct_batches"]
    rng = np.random.default_rng(p["seed"])
    x = rng.random((n * batch, *shape), dtype=np.float32)
    y = rng.integers(0, MODELS[p["model"]][1], size=(n * batch,), dtype=np.int32)
    order = VARIANTS if p.get("first", VARIANTS[0]) == VARIANTS[0] else VARIANTS[::-1]
    out: dict[str, Any] = {"device": device, "backend": backend, "pid": os.getpid()}
    for variant in order:
        windows = timed_fit(
            model, x, y, p, sync=device_sync(backend), every_step=variant == VARIANTS[0]
        )
        out[variant] = batch / statistics.median(windows)
        out[f"{variant}_window_step_s"] = windows
    return out


def timed_fit(model: Any, x: Any, y: Any, p: dict[str, Any], sync: Any, every_step: bool) -> list:
    """Per-step seconds of each window of one ``fit`` call (the first step, then warm-up)."""
    import keras

    total, n = 1 + p["warmup"] + p["steps"], len(x) // p["batch_size"]
    times: dict[int, float] = {}  # batch index since the first -> when it was done

    class Clock(keras.callbacks.Callback):
        # every_step: not async_safe, so Keras fetches each step's loss before calling
        # this on the main thread, which then waits. completion: async_safe, so Keras
        # calls it on its callback threads (in any order) once the loss is on the host,
        # and nothing waits; Keras waits for them all at each epoch's end.
        async_safe = not every_step
        offset = 0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.offset = epoch * n

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if every_step:
                sync()
            times[self.offset + batch] = time.perf_counter()
            if len(times) >= total:
                self.model.stop_training = True

    model.fit(
        x, y, batch_size=p["batch_size"], epochs=math.ceil(total / n), shuffle=False,
        verbose=0, callbacks=[Clock()],
    )  # fmt: skip
    k = p["window_steps"]
    edges = [times[i] for i in range(p["warmup"], total, k)]  # index 0 is the first step
    windows = [(b - a) / k for a, b in zip(edges, edges[1:], strict=False)]
    if not windows:
        raise SystemExit(f"bare_fit: {len(times)} steps ran, too few for one window")
    return windows


if __name__ == "__main__":
    params = json.loads(sys.argv[1])
    unknown = sorted(set(params) - set(PARAMS))
    if unknown or params.get("model") not in MODELS:
        raise SystemExit(f"bare_fit: bad parameters {unknown or params.get('model')!r}")
    print(json.dumps(main(params)))
