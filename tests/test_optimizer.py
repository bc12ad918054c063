"""The optimizer is part of the work: each model's reference optimizer by default, recorded,
and part of a configuration's identity (``compare`` never matches two optimizers)."""

from __future__ import annotations

import pytest

from kerasbench import feasibility
from kerasbench.legacy.keras2_env import OPTIMIZERS as LEGACY_OPTIMIZERS
from kerasbench.models import MODELS, OPTIMIZERS
from kerasbench.report.verdicts import compare
from kerasbench.report.view import build_view
from kerasbench.result import Result
from kerasbench.spec import Spec, SpecError
from kerasbench.worker.engines import OPTIMIZER_CLASSES
from tests.factories import make_result, make_spec


def test_each_model_defaults_to_its_reference_optimizer() -> None:
    expected = {
        "mnist_mlp": "rmsprop",  # the Keras examples
        "cifar10_cnn": "rmsprop",
        "resnet50": "momentum",  # MLPerf's reference: SGD with momentum
        "vgg16": "momentum",
        "lstm": "rmsprop",
        "hub_bert_base": "adamw",
        "hub_gemma_7b": "adamw",
    }
    for name, optimizer in expected.items():
        assert MODELS[name].optimizer == optimizer
        assert make_spec(name).optimizer == optimizer
    assert make_spec("mnist_mlp", optimizer="adam").optimizer == "adam"
    assert set(OPTIMIZER_CLASSES) == set(OPTIMIZERS)


def test_an_unknown_optimizer_or_learning_rate_is_refused() -> None:
    with pytest.raises(SpecError, match="optimizer: unknown value 'lion'"):
        Spec(model="mnist_mlp", backend="jax", optimizer="lion")
    with pytest.raises(SpecError, match="learning_rate"):
        Spec(model="mnist_mlp", backend="jax", learning_rate=-1.0)


def test_the_optimizer_is_part_of_a_training_points_identity() -> None:
    rms = make_result(100.0, mode="train_on_batch")
    sgd = make_result(100.0, mode="train_on_batch", optimizer="sgd")
    assert (rms.optimizer, sgd.optimizer) == ("rmsprop", "sgd")
    assert rms.point_key != sgd.point_key
    faster = make_result(120.0, mode="train_on_batch", optimizer="sgd", label="new")
    comparison = compare([rms], [faster])
    assert comparison.points == [] and comparison.only_base == [rms]
    assert comparison.only_new == [faster]
    # predict does no update: its identity does not depend on the optimizer
    assert make_result(10.0, mode="predict").optimizer == ""
    assert make_result(10.0, mode="predict", optimizer="adam").point_key == (
        make_result(10.0, mode="predict").point_key
    )


def test_records_from_before_the_optimizer_axis_ran_plain_sgd() -> None:
    data = make_result(100.0, mode="fit").to_dict()
    del data["optimizer"]
    assert Result.from_dict(data).optimizer == "sgd"
    data.update(mode="predict")
    assert Result.from_dict(data).optimizer == ""


def test_a_table_shows_the_optimizer_only_where_training_points_differ() -> None:
    same = [make_result(1.0, mode=m) for m in ("train_on_batch", "predict")]
    assert "optimizer" not in build_view(same).headers
    mixed = [*same, make_result(1.0, mode="train_on_batch", optimizer="adam")]
    assert "optimizer" in build_view(mixed).headers


def test_the_legacy_worker_knows_the_optimizers_keras_2_has() -> None:
    assert set(LEGACY_OPTIMIZERS) == set(OPTIMIZERS) - {"adamw"}
    spec = Spec(model="mnist_mlp", backend="mxnet", optimizer="adamw")
    reason = feasibility.check(spec, feasibility.Host(0)).reason or ""
    assert "adamw" in reason or "not installed" in reason
