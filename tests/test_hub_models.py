"""Keras Hub architectures built from their classes: the tiny variants train, predict, generate.

Everything that imports Keras runs in one PyTorch subprocess (as a worker would):
eager PyTorch builds and steps these models without compiling them, and the zoo
smoke (test_zoo.py) already runs each of them in every mode on JAX. The
configuration checks run here without a framework. Nothing is downloaded.
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

from kerasbench.models import hub_bert, hub_llm, hub_sam
from tests.conftest import needs_backend

ROOT = Path(__file__).resolve().parent.parent
TINY = [m for module in (hub_llm, hub_bert, hub_sam) for m in module.MODELS if m.tiny_of]

needs_hub = pytest.mark.skipif(
    importlib.util.find_spec("keras_hub") is None, reason="keras_hub not installed"
)

# Builds each tiny model, runs one training step (not SAM: inference only), predict,
# and for the causal LMs generate and LoRA; prints one JSON line.
SCRIPT = """
import json, numpy as np
from kerasbench.models import hub_bert, hub_llm, hub_sam
report = {}
rng = np.random.default_rng(0)
for module in (hub_llm, hub_bert, hub_sam):
    for info in (m for m in module.MODELS if m.tiny_of):
        model = info.build(None)
        x = module.inputs(info, None, 2, rng)
        row = {"params": model.count_params()}
        if module is not hub_sam:
            model.compile(loss=info.make_loss(), optimizer="adamw")
            y = rng.integers(0, info.num_classes, (2, *info.label_shape(None)))
            loss = np.asarray(model.train_on_batch(x, y)).ravel()[0]
            row["loss_finite"] = bool(np.isfinite(loss))
        out = model.predict(x, verbose=0)
        row["predict"] = {k: list(v.shape) for k, v in out.items()} if isinstance(out, dict) \\
            else list(out.shape)
        if module is hub_llm:
            buffer = hub_llm.prompt(info, 2, 5, 12, rng)
            ids = hub_llm.generate(model, buffer)
            row["generated"] = list(ids.shape)
            row["prompt_kept"] = bool((ids[:, :5] == buffer["token_ids"][:, :5]).all())
            times = hub_llm.time_generation(model, info, 1, 4, 3, rng, repeats=1)
            row["timing_keys"] = sorted(times)
            before = row["params"]
            row["lora_trainable"] = hub_llm.enable_lora(model, rank=4)
            row["lora_params_added"] = model.count_params() - before
            loss = np.asarray(model.train_on_batch(x, y)).ravel()[0]
            row["lora_loss_finite"] = bool(np.isfinite(loss))
        report[info.name] = row
print("RESULT " + json.dumps(report))
"""


@pytest.fixture(scope="module")
def hub_report() -> dict:
    env = {**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.split("RESULT ", 1)[1])


@needs_hub
@needs_backend("torch")
@pytest.mark.parametrize("name", [m.name for m in TINY])
def test_tiny_hub_model_trains_and_predicts(hub_report: dict, name: str) -> None:
    row = hub_report[name]
    assert row["params"] > 0
    if name == "hub_sam_tiny":
        assert row["predict"] == {"iou_pred": [2, 4], "masks": [2, 4, 16, 16]}
        assert "loss_finite" not in row
    elif name == "hub_bert_tiny":
        assert row["loss_finite"] and row["predict"] == [2, 2]
    else:
        assert row["loss_finite"] and row["predict"] == [2, 32, 256]


@needs_hub
@needs_backend("torch")
@pytest.mark.parametrize("name", [m.name for m in TINY if m.causal_lm])
def test_tiny_llm_generates_with_cache_and_fine_tunes_with_lora(
    hub_report: dict, name: str
) -> None:
    row = hub_report[name]
    assert row["generated"] == [2, 12] and row["prompt_kept"]
    assert row["timing_keys"] == [
        "generate_s",
        "time_per_output_token_s",
        "time_to_first_token_s",
        "tokens_per_s",
    ]
    # LoRA adds rank-4 adapters and leaves only them trainable.
    assert 0 < row["lora_trainable"] == row["lora_params_added"] < row["params"]
    assert row["lora_loss_finite"]


def test_inputs_match_what_the_hub_classes_take() -> None:
    rng = np.random.default_rng(0)
    for info in TINY:
        module = {"hub_bert": hub_bert, "hub_sam": hub_sam}.get(
            info.builder.__module__.rsplit(".", 1)[-1], hub_llm
        )
        x = module.inputs(info, None, 3, rng)
        if info.input_kind == "tokens":
            assert x["token_ids"].shape == (3, info.default_seq_len)
            assert x["token_ids"].dtype == np.int32 and x["token_ids"].max() < info.vocab_size
            assert x["padding_mask"].all()
        else:
            size = info.default_image_size
            assert x["images"].shape == (3, size, size, 3)
            assert (x["boxes"][:, :, 0] <= x["boxes"][:, :, 1]).all()
            assert ((0 <= x["points"]) & (x["points"] < size)).all()


def test_full_configs_are_the_published_sizes() -> None:
    gemma, llama, mistral = hub_llm.MODELS[:3]
    assert gemma.hparams["config"]["num_layers"] == 28 and gemma.vocab_size == 256000
    assert llama.hparams["config"]["num_key_value_heads"] == 8 and llama.vocab_size == 128256
    assert mistral.hparams["config"]["hidden_dim"] == 4096 and mistral.vocab_size == 32000
    assert hub_bert.BERT_BASE.hparams["config"]["num_layers"] == 12
    assert (
        hub_sam.SAM_HUGE.hparams["hidden"] == 1280 and hub_sam.SAM_HUGE.default_image_size == 1024
    )
    for info in TINY:
        assert info.tiny_of in {m.name for m in (gemma, llama, mistral)} | {
            "hub_bert_base",
            "hub_sam_huge",
        }
    prompt = hub_llm.prompt(TINY[0], 2, 3, 8, np.random.default_rng(0))
    assert prompt["padding_mask"].sum(axis=1).tolist() == [3, 3]
    with pytest.raises(ValueError, match="new_tokens 1"):
        hub_llm.time_generation(None, TINY[0], 1, 4, 1, np.random.default_rng(0))
