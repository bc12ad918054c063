"""The model zoo: registry, synthetic inputs per kind, validation, units, and every
tiny model in every mode on every installed backend (one process per backend)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kerasbench import backends, cli, feasibility
from kerasbench.backends import BACKENDS
from kerasbench.data import synthetic
from kerasbench.models import MODELS
from kerasbench.result import Result
from kerasbench.spec import Spec, SpecError
from kerasbench.suite import load_suite
from tests.conftest import backend_params, report_json
from tests.zoo_smoke import default_points

ROOT = Path(__file__).resolve().parent.parent
ZOO = (
    "vgg16",
    "xception",
    "mobilenet_v2",
    "efficientnet_b0",
    "lstm",
    "gru",
    "lstm_text",
    "hub_bert_base",
    "hub_gemma_7b",
    "hub_llama3_8b",
    "hub_mistral_7b",
    "hub_sam_huge",
)


def test_every_zoo_model_has_a_tiny_variant() -> None:
    tiny = {m.tiny_of: name for name, m in MODELS.items() if m.tiny_of}
    assert set(ZOO) <= set(tiny)
    assert tiny["hub_bert_base"] == "hub_bert_tiny"
    for name in tiny.values():
        assert MODELS[name].builder is MODELS[MODELS[name].tiny_of].builder
    bert = MODELS["hub_bert_tiny"].hparams["config"]
    assert (bert["num_layers"], bert["hidden_dim"], bert["num_heads"]) == (2, 128, 2)
    gemma = MODELS["hub_gemma_7b"].hparams["config"]
    assert (gemma["num_layers"], gemma["hidden_dim"]) == (28, 3072)


@pytest.mark.parametrize(
    ("model", "x_shape", "x_dtype", "y_shape"),
    [
        ("mnist_mlp", (4, 784), np.float32, (4,)),
        ("cifar10_cnn", (4, 32, 32, 3), np.float32, (4,)),
        ("lstm", (4, 40, 60), np.float32, (4,)),
        ("lstm_text_tiny", (4, 8), np.int32, (4,)),
    ],
)
def test_synthetic_inputs_per_kind(model, x_shape, x_dtype, y_shape) -> None:
    info = MODELS[model]
    spec = Spec(model=model, backend="jax", batch_size=2).resolved()
    x, y = synthetic.make_arrays(info, spec, 2)
    assert (x.shape, x.dtype, y.shape, y.dtype) == (x_shape, x_dtype, y_shape, np.int32)
    assert 0 <= y.min() and y.max() < info.num_classes
    if info.input_kind == "tokens":
        assert 0 <= x.min() and x.max() < info.vocab_size
    if info.causal_lm:  # the label at each position is the next input token
        assert (y[:, :-1] == x[:, 1:]).all()


def test_keras_hub_models_make_their_own_inputs() -> None:
    rng = np.random.default_rng(0)
    for name, keys in (
        ("hub_bert_tiny", {"token_ids", "segment_ids", "padding_mask"}),
        ("hub_llama3_tiny", {"token_ids", "padding_mask"}),
    ):
        info = MODELS[name]
        x = info.make_inputs(info, Spec(model=name, backend="jax").resolved(), 4, rng)
        assert set(x) == keys and x["token_ids"].shape == (4, 32)
        assert 0 <= x["token_ids"].min() and x["token_ids"].max() < info.vocab_size
    sam = MODELS["hub_sam_tiny"]
    assert sam.make_inputs(sam, None, 2, rng)["images"].shape == (2, 64, 64, 3)


def test_seq_len_changes_sequence_models_only() -> None:
    info = MODELS["hub_bert_tiny"]
    spec = Spec(model="hub_bert_tiny", backend="jax", seq_len=16).resolved()
    x = info.make_inputs(info, spec, 1, np.random.default_rng(0))
    assert x["token_ids"].shape[1] == 16
    assert Spec(model="lstm", backend="jax").resolved().seq_len == 40
    assert Spec(model="resnet50", backend="jax").resolved().seq_len == 0
    with pytest.raises(SpecError, match="seq_len: model 'resnet50' does not take sequences"):
        Spec(model="resnet50", backend="jax", seq_len=12)


def test_generate_needs_a_causal_lm() -> None:
    host = feasibility.Host(0)
    bert = feasibility.check(Spec(model="hub_bert_tiny", backend="jax", mode="generate"), host)
    assert bert.rule == "generate-needs-causal-lm" and "hub_gemma_7b" in bert.reason
    short = Spec(model="hub_llama3_tiny", backend="jax", mode="generate", seq_len=1)
    assert feasibility.check(short, host).rule == "generate-needs-causal-lm"
    assert feasibility.check(Spec(model="hub_llama3_tiny", backend="jax", mode="generate"), host)


def test_image_size_below_the_architecture_minimum_is_refused() -> None:
    with pytest.raises(SpecError, match="below 71.*xception"):
        Spec(model="xception", backend="jax", image_size=64)
    Spec(model="xception", backend="jax", image_size=71)


def test_selecting_generate_keeps_the_selected_models() -> None:
    suite = load_suite("quick").select("model", ["hub_llama3_tiny"]).select("mode", ["generate"])
    specs = suite.expand(default_backends=["jax"])
    assert [(s.model, s.mode) for s in specs] == [("hub_llama3_tiny", "generate")]


def test_generate_throughput_is_tokens_per_second() -> None:
    spec = Spec(model="hub_llama3_tiny", backend="jax", mode="generate", steps=2).resolved()
    raw = {
        "status": "ok",
        "window_times_s": [0.5, 0.5],
        "items_per_step": 2 * 16,
        "throughput_unit": "tokens/s",
    }
    result = Result.from_worker(spec, raw)
    assert result.throughput_unit == "tokens/s"
    assert result.samples_per_sec == pytest.approx(64.0)
    assert result.seq_len == 32
    assert Result.from_spec(spec, "failed", "x").throughput_unit == "tokens/s"
    lstm = Spec(model="lstm", backend="jax").resolved()
    assert Result.from_spec(lstm, "skipped").throughput_unit == "samples/s"


def test_list_models_shows_the_zoo(capsys) -> None:
    assert cli.main(["list", "models"]) == 0
    out = capsys.readouterr().out
    for name in (*ZOO, "hub_bert_tiny", "hub_llama3_tiny"):
        assert name in out
    assert "tokens 512 (vocab 30522)" in out and "(+generate)" in out
    assert "--model-path" in out  # how to run your own model


def _zoo_lines(stdout: str, prefix: str = "ZOO ") -> list[dict]:
    return [
        json.loads(line[len(prefix) :]) for line in stdout.splitlines() if line.startswith(prefix)
    ]


SMOKE_BACKENDS = ("jax", "tensorflow", "torch", "openvino")
# Four processes share the machine's cores: one thread each, so that no framework's
# pool spins waiting for cores the others hold.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


@pytest.fixture(scope="module")
def smoke_runs():
    """Start one zoo_smoke process per installed backend, all at once.

    They run side by side (the CI machine has 2 cores, and each process spends
    most of its time single-threaded in tracing and compilation); each test
    below waits for its own backend's process. JAX, the slowest to compile,
    gets XLA's backend optimisation level 0: LLVM's passes are most of an XLA
    CPU compile, and a smoke test runs each compiled step once (measured on
    mobilenet_v2_tiny fit, xception_tiny train_on_batch and bert_tiny fit:
    123 CPU-s -> 76).
    """
    procs = {}
    for backend in SMOKE_BACKENDS:
        if backends.missing_packages(backend):
            continue
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
        env.update(ONE_THREAD)
        if backend == "jax":
            one_thread = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            fast_compile = "--xla_backend_optimization_level=0"
            env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {fast_compile} {one_thread}".strip()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        procs[backend] = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "zoo_smoke.py")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.slow
@pytest.mark.parametrize("backend", backend_params(SMOKE_BACKENDS))
def test_every_tiny_model_runs_every_mode(smoke_runs, backend: str) -> None:
    """One process per backend runs every tiny zoo model once in each mode it supports."""
    proc = smoke_runs[backend]
    stdout, stderr = proc.communicate(timeout=900)
    lines = _zoo_lines(stdout)
    expected = default_points(training=BACKENDS[backend].training)
    assert [(p["model"], p["mode"]) for p in lines] == expected, stderr[-3000:]
    bad = [p for p in lines if p["status"] != "ok"]
    assert not bad, bad
    assert proc.returncode == 0, stderr[-3000:]
    for p in lines:
        assert len(p["window_times_s"]) == 1
        if p["mode"] == "generate":  # hub LLMs: prompt 16 tokens, 16 new ones, batch 2
            assert (p["throughput_unit"], p["items_per_step"]) == ("tokens/s", 32)
        else:
            assert (p["throughput_unit"], p["items_per_step"]) == ("samples/s", 2)


@pytest.mark.slow
# Eager PyTorch: the zoo smoke already compiles generate on JAX for each LM.
@pytest.mark.parametrize("backend", backend_params(("torch",)))
def test_cli_generate_end_to_end(kerasbench, backend: str) -> None:
    proc = kerasbench(
        "run", "--models", "hub_llama3_tiny", "--modes", "generate", "--backends", backend,
        "--steps", "1", "--window-steps", "1", "--warmup", "0", "--seq-len", "8",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "tokens/s" in proc.stdout
    [record] = report_json(kerasbench)
    assert record["status"] == "ok", record
    assert (record["mode"], record["seq_len"], record["throughput_unit"]) == (
        "generate",
        8,
        "tokens/s",
    )
    assert record["settings"]["prompt_len"] == 4 and record["settings"]["new_tokens"] == 4
    # One step writes 4 new tokens for each of the batch's 2 sequences.
    step_s = record["window_times_s"][0] / record["window_steps"]
    assert record["samples_per_sec"] == pytest.approx(2 * 4 / step_s)
    # Keras Hub's KV-cached sampler: time to first token and per further token, measured.
    assert record["time_to_first_token_s"] > 0 and record["time_per_output_token_s"] >= 0
    assert record["settings"]["decoding"] == "greedy, Keras Hub's KV-cached sampler"
