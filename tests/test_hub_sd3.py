"""Keras Hub's Stable Diffusion 3: the tiny variant generates images on JAX, the full
configuration is SD3 medium as Keras Hub publishes it, and training is skipped.

Keras runs in subprocesses (the backend is fixed at import). The full configuration is
counted on torch's ``meta`` device, which allocates no memory and runs nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kerasbench import feasibility
from kerasbench.models import MODELS, hub_sd3
from tests.conftest import needs_backend
from tests.factories import make_spec

ROOT = Path(__file__).resolve().parent.parent
TINY, MEDIUM = MODELS["hub_sd3_tiny"], MODELS["hub_sd3_medium"]
SD3_MEDIUM_PARAMS = 2_987_080_931  # Keras Hub's stable_diffusion_3_medium preset

needs_hub = pytest.mark.skipif(
    importlib.util.find_spec("keras_hub") is None, reason="keras_hub not installed"
)

PREDICT = """
import json, numpy as np
from kerasbench.models import MODELS, hub_sd3
info = MODELS["hub_sd3_tiny"]
model = info.build(None)
x = hub_sd3.inputs(info, None, 3, np.random.default_rng(0))
images = model.predict(x, batch_size=2, verbose=0)
print("RESULT " + json.dumps({"params": model.count_params(), "shape": list(images.shape),
                              "finite": bool(np.isfinite(images).all())}))
"""

COUNT = """
import json, keras
from kerasbench.models import MODELS
with keras.device("meta"):
    model = MODELS["hub_sd3_medium"].build(None)
print("RESULT " + json.dumps({"params": model.count_params()}))
"""


def _run(script: str, backend: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.split("RESULT ", 1)[1])


@pytest.mark.slow
@needs_hub
@needs_backend("jax")
def test_tiny_sd3_generates_images_on_jax() -> None:
    report = _run(PREDICT, "jax")
    assert report == {"params": 604_003, "shape": [3, 64, 64, 3], "finite": True}


@needs_hub
@needs_backend("torch")
def test_the_full_config_is_sd3_medium_as_keras_hub_publishes_it() -> None:
    assert _run(COUNT, "torch")["params"] == SD3_MEDIUM_PARAMS
    assert MEDIUM.default_image_size == 1024 and MEDIUM.hparams["num_steps"] == 28


def test_inputs_are_latents_and_clip_token_ids() -> None:
    x = hub_sd3.inputs(TINY, None, 3, np.random.default_rng(0))
    assert x["latents"].shape == (3, 8, 8, 16) and x["latents"].dtype == np.float32
    vocab = TINY.hparams["clip_l"]["vocabulary_size"]
    for key in ("clip_l", "clip_g"):
        ids, empty = x[f"{key}_token_ids"], x[f"{key}_negative_token_ids"]
        assert ids.shape == empty.shape == (3, 16) and ids.dtype == np.int32
        assert (ids[:, 0] == vocab - 2).all() and (empty[:, 1:] == vocab - 1).all()
        # The text encoders pool at the first end id: right after the prompt.
        assert (ids.argmax(axis=1) == 1 + hub_sd3.PROMPT_TOKENS).all()


def test_training_is_skipped_with_the_reason() -> None:
    for mode in ("fit", "train_on_batch"):
        verdict = feasibility.check(make_spec(model="hub_sd3_tiny", mode=mode), feasibility.Host(0))
        assert not verdict.runnable and hub_sd3.SKIP_TRAINING in verdict.describe()
    verdict = feasibility.check(
        make_spec(model="hub_sd3_tiny", mode="predict"), feasibility.Host(0)
    )
    assert verdict.runnable or verdict.rule == "installed"
