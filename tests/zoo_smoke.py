"""KERAS_BACKEND=jax python tests/zoo_smoke.py [MODEL:MODE ...]

Runs one tiny point per (model, mode) through the worker's own ``run_point``,
all in this one process (one backend per process, as Keras requires), and
prints one JSON line per point. ``test_zoo.py`` runs it once per backend, so
that the whole zoo costs one framework start per backend, not one per point.
Without arguments it runs every tiny variant in every mode it supports.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

from kerasbench.backends import BACKENDS
from kerasbench.models import MODELS
from kerasbench.spec import Spec
from kerasbench.worker.main import run_point
from kerasbench.worker.protocol import failure

JIT = os.environ.get("ZOO_JIT", "auto")  # e.g. ZOO_JIT=off to try the zoo without compiling
# train_on_batch runs the train step that fit runs (one compiled or traced function per
# backend), and test_e2e.py runs it on every backend; here it would only trace again.
TRAIN_MODES = ("fit", "predict")
# The zoo of issue 3, as tiny variants (the classic models and resnet50 have their own tests,
# and so has Stable Diffusion 3, whose one step is a whole image generation: test_hub_sd3.py).
OWN_TESTS = ("resnet50", "hub_sd3_medium")
SMOKE_MODELS = tuple(n for n, m in MODELS.items() if m.tiny_of and m.tiny_of not in OWN_TESTS)


def default_points(training: bool = True) -> list[tuple[str, str]]:
    """Every smoke model in every mode; an inference-only backend runs predict only."""
    points = []
    for name in SMOKE_MODELS:
        modes = TRAIN_MODES if training else ("predict",)
        if training and MODELS[name].causal_lm:
            modes = (*modes, "generate")
        skip = MODELS[name].skip_modes  # SAM is inference only
        points += [(name, mode) for mode in modes if mode not in skip]
    return points


def main(argv: list[str]) -> int:
    import keras

    backend = keras.backend.backend()
    if argv:
        points = [tuple(a.split(":", 1)) for a in argv]
    else:
        points = default_points(training=BACKENDS[backend].training)
    failed = 0
    for name, mode in points:
        started, cpu = time.perf_counter(), time.process_time()
        spec = Spec(
            model=name, backend=backend, mode=mode, batch_size=2, steps=1, warmup=0, jit_compile=JIT
        )
        try:
            raw = run_point(spec.resolved()).to_json()
        except Exception as exc:  # report every point, then fail at the end
            traceback.print_exc()
            raw = failure(exc).to_json()
        failed += raw["status"] != "ok"
        line = {
            "model": name,
            "mode": mode,
            "status": raw["status"],
            "error": raw.get("error"),
            "window_times_s": raw.get("window_times_s"),
            "throughput_unit": raw.get("throughput_unit"),
            "items_per_step": raw.get("items_per_step"),
            "wall_s": round(time.perf_counter() - started, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
        }
        print("ZOO " + json.dumps(line), flush=True)
        keras.backend.clear_session()  # free the model before the next one
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
