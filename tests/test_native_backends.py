"""torch-native and jax-native as backends: the rule book, the worker, the launcher's view.

One step of every native model through the worker's ``run_point`` on each
native backend (cheap sizes: the tiny variants; torchvision models skip with
the reason the rule book gives here), the launcher path once per backend, and
the rules that keep native and Keras points apart.
"""

from __future__ import annotations

import pytest
from factories import make_spec

from kerasbench import backends, feasibility
from kerasbench.models import get_model
from kerasbench.native import MODELS, native_name
from kerasbench.native.torch_models import TORCHVISION
from kerasbench.orchestrate import plan as plan_mod
from kerasbench.orchestrate.point import worker_env
from kerasbench.worker.engines import optimizer_choice

NATIVE = ("torch-native", "jax-native")
# The cheapest kerasbench model behind each native architecture.
CHEAP = {
    "resnet50": "resnet50_tiny",
    "vgg16": "vgg16_tiny",
    "mobilenet_v2": "mobilenet_v2_tiny",
    "efficientnet_b0": "efficientnet_b0_tiny",
    "lstm": "lstm_tiny",
    "gru": "gru_tiny",
}


def _missing(backend: str) -> str | None:
    missing = backends.missing_packages(backend)
    return f"{backend} not installed (missing {', '.join(missing)})" if missing else None


def _one_step_params() -> list[object]:
    params = []
    for backend in NATIVE:
        framework = backends.BACKENDS[backend].native
        for arch in MODELS[framework]:
            reason = _missing(backend)
            if reason is None and framework == "torch" and arch in TORCHVISION:
                reason = feasibility.torchvision_error()
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            params.append(pytest.param(backend, CHEAP.get(arch, arch), marks=marks, id=arch))
    return params


@pytest.mark.parametrize(("backend", "model"), _one_step_params())
def test_one_step_of_every_native_model_through_the_worker(backend: str, model: str) -> None:
    from kerasbench.worker.main import run_point

    spec = make_spec(
        model, backend, mode="train_on_batch", batch_size=2, steps=1, warmup=0, window_steps=1
    )
    assert feasibility.check(spec, feasibility.Host(0)).runnable
    record = run_point(spec)
    assert record.status == "ok"
    assert len(record.window_times_s) == 1 and len(record.losses) == 2  # first step + 1 timed
    assert record.keras_version is None  # no Keras in a native point
    assert record.forward_flops_per_sample and record.forward_flops_per_sample > 0
    assert record.settings["native_model"] == native_name(model)
    # The same optimizer rule as the Keras side: the model's reference one.
    name, _ = optimizer_choice(spec, get_model(model))
    assert record.settings["optimizer"].startswith(f"{name}(")


@pytest.mark.parametrize("backend", NATIVE)
@pytest.mark.parametrize("mode", ["fit", "predict"])
def test_fit_and_predict_time_their_windows(backend: str, mode: str) -> None:
    if _missing(backend):
        pytest.skip(_missing(backend))
    from kerasbench.worker.main import run_point

    spec = make_spec(
        "mnist_mlp", backend, mode=mode, batch_size=4, steps=4, warmup=1, window_steps=2
    )
    record = run_point(spec)
    assert record.status == "ok" and len(record.window_times_s) == 2
    assert all(w > 0 for w in record.window_times_s)


@pytest.mark.parametrize("backend", NATIVE)
def test_a_native_point_through_the_launcher(backend: str, tmp_path: object) -> None:
    """A fresh worker process, as every point runs: KERAS_BACKEND names the framework."""
    if _missing(backend):
        pytest.skip(_missing(backend))
    from kerasbench.envinfo import collect
    from kerasbench.orchestrate.point import run_point

    spec = make_spec("mnist_mlp", backend, batch_size=4, steps=2, warmup=0, window_steps=1)
    result = run_point(spec, collect())
    assert result.status == "ok", result.error
    assert result.backend == backend and result.keras_version is None
    assert result.mfu is not None or result.peak_tflops is None


def test_worker_env_names_the_framework_not_the_native_backend(tmp_path: object) -> None:
    for backend, framework in (("torch-native", "torch"), ("jax-native", "jax")):
        env = worker_env(make_spec("mnist_mlp", backend), tmp_path, base={})
        assert env["KERAS_BACKEND"] == framework


def test_native_backends_run_only_when_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "missing_packages", lambda name: [])
    assert not set(NATIVE) & set(backends.installed_backends())
    assert set(NATIVE) <= set(backends.installed_backends(legacy=True))


@pytest.mark.parametrize(
    ("kw", "rule", "words"),
    [
        ({"model": "hub_bert_tiny", "backend": "jax-native"}, "native-backend", "no native"),
        ({"backend": "jax-native", "mode": "input_only"}, "native-backend", "measures modes"),
        ({"backend": "torch-native", "jit_compile": "on"}, "backend-axes", "no jit_compile"),
        ({"backend": "torch-native", "jit_compile": "off"}, "native-backend", "--compile"),
        ({"backend": "jax-native", "compile": "default"}, "native-backend", "takes compile auto"),
        ({"backend": "torch", "compile": "eager"}, "native-backend", "--jit-compile"),
        ({"backend": "jax-native", "precision": "mixed_float16"}, "backend-axes", "float32"),
        ({"backend": "torch-native", "input": "generator"}, "backend-axes", "arrays"),
        ({"backend": "torch-native", "devices": 2}, "data-parallel-engine", "no data-parallel"),
    ],
)
def test_rules_keep_native_and_keras_points_apart(
    kw: dict, rule: str, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backends, "missing_packages", lambda name: [])
    kw = {"model": "mnist_mlp", **kw}
    verdict = feasibility.check(make_spec(**kw), feasibility.Host(0))
    assert verdict.rule == rule, verdict.describe()
    assert words in verdict.reason


def test_native_compile_choices_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "missing_packages", lambda name: [])
    for value in ("auto", "eager", "default", "max-autotune"):
        spec = make_spec("mnist_mlp", "torch-native", compile=value)
        assert feasibility.check(spec, feasibility.Host(0)).runnable


def test_dry_run_shows_the_torchvision_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "missing_packages", lambda name: [])
    reason = "torchvision does not import: RuntimeError: operator torchvision::nms does not exist"
    monkeypatch.setattr(feasibility, "torchvision_error", lambda: reason)
    request = plan_mod.Request(
        suite="native", overrides={"backend": ["torch-native"]}, models=["resnet50", "mnist_mlp"]
    )
    lines = [plan_mod.describe(s, v) for s, v in plan_mod.plan(request, gpus=0).points]
    resnet = [line for line in lines if line.startswith("resnet50")]
    assert resnet and all("skipped [torchvision]" in line and reason in line for line in resnet)
    assert all(line.endswith("-> run") for line in lines if line.startswith("mnist_mlp"))


def test_dry_run_names_the_compile_setting() -> None:
    spec = make_spec("mnist_mlp", "torch-native", compile="max-autotune")
    assert "compile=max-autotune" in plan_mod.describe(spec)
    assert "compile=" not in plan_mod.describe(make_spec("mnist_mlp", "torch"))
