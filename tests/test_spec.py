"""Spec validation, suite parsing, expansion, selection and overrides."""

from __future__ import annotations

import pytest

from kerasbench.spec import Spec, SpecError
from kerasbench.suite import load_suite, parse_suite, suite_names


def test_defaults_resolve_from_the_model() -> None:
    spec = Spec(model="resnet50", backend="jax").resolved()
    assert spec.batch_size == 32
    assert spec.image_size == 224
    assert spec.window_steps == 2  # steps // 10
    assert Spec(model="mnist_mlp", backend="jax").resolved().batch_size == 128


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("model", "resnet5", "valid: resnet50, cifar10_cnn, mnist_mlp"),
        ("backend", "mxnett", "valid: jax, tensorflow, torch"),
        ("mode", "train", "valid: fit, train_on_batch, predict"),
        ("steps", -1, "steps: -1 is out of range"),
        ("steps", 0, "steps: 0 is out of range"),
        ("devices", 2048, "devices: 2048 is out of range"),
        ("batch_size", "32", "batch_size: expected an integer"),
        ("warmup", True, "warmup: expected an integer"),
        ("precision", "fp16", "valid: float32, mixed_float16, mixed_bfloat16"),
        ("timeout", 0, "timeout: 0 is out of range"),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(key, value, message) -> None:
    fields = {"model": "mnist_mlp", "backend": "jax", key: value}
    with pytest.raises(SpecError, match=message):
        Spec(**fields)


def test_batch_must_split_over_devices() -> None:
    with pytest.raises(SpecError, match="does not split evenly over 3 devices"):
        Spec(model="mnist_mlp", backend="jax", batch_size=32, devices=3)


def test_image_size_only_for_image_models() -> None:
    with pytest.raises(SpecError, match="does not take images"):
        Spec(model="mnist_mlp", backend="jax", image_size=64)


def test_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(SpecError, match="unknown key 'batchsize'"):
        Spec.from_dict({"model": "mnist_mlp", "backend": "jax", "batchsize": 3})


SUITE = """
description = "test"
[defaults]
steps = 5
[[matrix]]
model = ["mnist_mlp", "cifar10_cnn"]
mode = ["fit", "predict"]
[[matrix]]
model = "resnet50"
mode = "predict"
batch_size = 4
"""


def test_suite_expands_the_product_of_each_block() -> None:
    suite = parse_suite(SUITE, "t.toml")
    specs = suite.expand(default_backends=["jax", "torch"])
    assert len(specs) == 2 * 2 * 2 + 2
    assert {s.steps for s in specs} == {5}
    resnet = [s for s in specs if s.model == "resnet50"]
    assert [s.backend for s in resnet] == ["jax", "torch"]
    assert all(s.batch_size == 4 for s in resnet)


def test_overrides_apply_to_every_block() -> None:
    specs = parse_suite(SUITE, "t.toml").expand({"steps": 2, "backend": ["tensorflow"]})
    assert {s.steps for s in specs} == {2}
    assert {s.backend for s in specs} == {"tensorflow"}


def test_select_keeps_block_settings_and_adds_missing_values() -> None:
    suite = parse_suite(SUITE, "t.toml").select("model", ["resnet50", "mnist_mlp"])
    specs = suite.expand(default_backends=["jax"])
    assert {(s.model, s.mode, s.batch_size) for s in specs} == {
        ("mnist_mlp", "fit", None),  # None: the model default
        ("mnist_mlp", "predict", None),
        ("resnet50", "predict", 4),
    }
    # A model the suite does not hold runs with the suite's defaults.
    added = parse_suite(SUITE, "t.toml").select("model", ["mnist_mlp"]).select("mode", ["fit"])
    assert [(s.model, s.mode) for s in added.expand(default_backends=["jax"])] == [
        ("mnist_mlp", "fit")
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[matrix]]\nmodel = 'nope'", "t.toml: matrix block 1: model: unknown value 'nope'"),
        ("[[matrix]]\nstepz = 3", "t.toml: matrix block 1: unknown key 'stepz'"),
        ("[defaults]\nmodel = 'mnist_mlp'\nsteps = -4", "steps: -4 is out of range"),
        ("[defaults]\nsteps = 4", "matrix block 1: no model given; valid: resnet50"),
        ("model = 'x'", "unknown top-level key 'model'"),
        ("[[matrix]\n", "t.toml: malformed TOML"),
        ("[[matrix]]\nmode = []", "mode is an empty list"),
        ("defaults = 3", "defaults: expected a table"),
    ],
)
def test_bad_suite_files(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("[", r"\[")):
        parse_suite(text, "t.toml")


def test_builtin_suites_parse() -> None:
    names = suite_names()
    assert {"quick", "cpu_config", "gpu_config", "4_gpu_config", "8_gpu_config"} <= set(names)
    for name in names:
        assert load_suite(name).expand(default_backends=["jax"])
    quick = load_suite("quick").expand(default_backends=["jax"])
    assert "resnet50" in {s.model for s in quick}


def test_unknown_suite_lists_the_valid_ones() -> None:
    with pytest.raises(SpecError, match="unknown suite 'quik'; valid: .*quick"):
        load_suite("quik")


def test_gpu_suites_use_global_batch() -> None:
    spec = load_suite("8_gpu_config").expand(default_backends=["jax"])[0].resolved()
    assert spec.devices == 8 and spec.batch_size == 256 and spec.per_device_batch_size == 32


def test_select_a_mode_no_block_holds_adds_it_to_every_block() -> None:
    suite = parse_suite(SUITE, "t.toml").select("mode", ["train_on_batch"])
    specs = suite.expand(default_backends=["jax"])
    assert {(s.model, s.mode) for s in specs} == {
        ("mnist_mlp", "train_on_batch"),
        ("cifar10_cnn", "train_on_batch"),
        ("resnet50", "train_on_batch"),
    }
    with pytest.raises(SpecError, match="mode: unknown value 'train'"):
        parse_suite(SUITE, "t.toml").select("mode", ["train"])
