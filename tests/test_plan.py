"""Planning a run: selection keeps every asked combination, flags come from Spec metadata,
the rule book gives each point a verdict, and the plan refuses what it must."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from kerasbench import backends, cli, feasibility
from kerasbench.orchestrate import plan
from kerasbench.orchestrate.run import expand_repeats
from kerasbench.spec import SpecError
from kerasbench.suite import MAX_POINTS, load_suite, parse_suite
from tests.factories import make_spec

SELECTION = ["--backends", "tensorflow", "--models", "mnist_mlp,cifar10_cnn"]
SELECTION += ["--modes", "train_on_batch,predict"]


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def all_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "missing_packages", lambda name: [])


def test_explicit_models_times_modes_plans_every_combination(all_installed) -> None:
    request = plan.Request(
        None, ["mnist_mlp", "cifar10_cnn"], ["train_on_batch", "predict"], {"backend": ["jax"]}
    )
    points = plan.plan(request, gpus=0, env={}).points
    assert [(s.model, s.mode) for s, _ in points] == [
        ("mnist_mlp", "train_on_batch"),
        ("mnist_mlp", "predict"),
        ("cifar10_cnn", "train_on_batch"),
        ("cifar10_cnn", "predict"),
    ]
    # mnist_mlp keeps the quick suite's block settings; cifar10_cnn (not in quick) its defaults.
    assert {s.timeout for s, _ in points if s.model == "mnist_mlp"} == {180}
    assert {s.timeout for s, _ in points if s.model == "cifar10_cnn"} == {300}


def test_dry_run_shows_the_four_points_of_the_selection(all_installed) -> None:
    code, out, err = run_cli("run", *SELECTION, "--dry-run")
    assert code == 0, err
    lines = out.splitlines()
    assert len([ln for ln in lines if "-> run" in ln]) == 4
    assert lines[-1] == "4 points: 4 to run, 0 skipped"


def test_a_point_that_cannot_run_is_a_visible_skipped_row(all_installed) -> None:
    code, out, _ = run_cli(
        "run", "--backends", "jax", "--models", "mnist_mlp", "--modes", "generate", "--dry-run"
    )
    assert code == 0
    assert "mnist_mlp jax generate" in out
    assert "skipped [generate-needs-causal-lm]: mode generate needs a causal language model" in out


def test_installed_inference_only_backend_joins_only_predict_points(all_installed) -> None:
    request = plan.Request(None, ["mnist_mlp"], ["fit", "predict"])
    points = plan.plan(request, gpus=0, env={}).points
    assert ("openvino", "predict") in {(s.backend, s.mode) for s, _ in points}
    assert ("openvino", "fit") not in {(s.backend, s.mode) for s, _ in points}
    # Named explicitly, it is planned and shown as skipped with the rule.
    named = plan.plan(dataclass_replace(request, {"backend": ["openvino"]}), 0, env={}).points
    verdicts = {s.mode: v for s, v in named}
    assert verdicts["fit"].rule == "inference-only" and verdicts["predict"].runnable


def dataclass_replace(request: plan.Request, overrides: dict) -> plan.Request:
    return plan.Request(request.suite, request.models, request.modes, overrides)


def test_every_spec_flag_comes_from_field_metadata() -> None:
    flags = {f.flag: f for f in plan.flag_fields()}
    assert flags["--backends"].key == "backend" and flags["--backends"].dest == "backends"
    assert flags["--batch-size"].kind == "csv_int"
    assert flags["--insecure-rendezvous"].kind == "switch"
    assert "--repeat" not in flags and "--model" not in flags  # not overrides
    code, out, _ = run_cli("run", "--batch-size", "0", "--dry-run")
    assert code == 2


def test_rules_are_named_and_ordered() -> None:
    names = [name for name, _ in feasibility.RULES]
    assert names[0] == "installed" and len(names) == len(set(names))


def test_data_parallel_rules_read_backend_capabilities(all_installed) -> None:
    host = feasibility.Host(gpus=0)
    dp = make_spec(backend="openvino", mode="predict", devices=2, batch_size=4)
    assert feasibility.check(dp, host).rule == "data-parallel-engine"
    native = make_spec(backend="openvino", mode="predict", input="native")
    assert feasibility.check(native, host).rule == "native-input"
    mx = make_spec(backend="mxnet", precision="mixed_float16")
    assert feasibility.check(mx, host).reason == "mxnet runs float32 only"


def test_multi_host_needs_the_rendezvous_secret(all_installed) -> None:
    hosts = {"backend": ["jax"], "num_hosts": 2, "coordinator": "h0:29500"}
    request = plan.Request(None, ["mnist_mlp"], ["fit"], hosts)
    with pytest.raises(SpecError, match="KERASBENCH_RENDEZVOUS_SECRET or .*_SECRET_FILE"):
        plan.plan(request, gpus=0, env={})
    assert plan.plan(request, 0, env={"KERASBENCH_RENDEZVOUS_SECRET": "s"}).points
    assert plan.plan(request, 0, env={"KERASBENCH_RENDEZVOUS_SECRET_FILE": "/f"}).points
    insecure = plan.Request(None, ["mnist_mlp"], ["fit"], {**hosts, "insecure_rendezvous": True})
    assert plan.plan(insecure, 0, env={}).points
    code, _, err = run_cli(
        "run", "--models", "mnist_mlp", "--num-hosts", "2", "--coordinator", "h:1", "--dry-run"
    )
    if "KERASBENCH_RENDEZVOUS_SECRET" not in os.environ:
        assert code == 2 and err.count("\n") == 1 and "KERASBENCH_RENDEZVOUS_SECRET" in err


def test_the_rendezvous_secret_reaches_the_worker(tmp_path: Path) -> None:
    from kerasbench.orchestrate.point import worker_env

    base = {"KERASBENCH_RENDEZVOUS_SECRET": "s", "KERASBENCH_RENDEZVOUS_SECRET_FILE": "/f"}
    env = worker_env(make_spec(), tmp_path, base)
    assert env["KERASBENCH_RENDEZVOUS_SECRET"] == "s"
    assert env["KERASBENCH_RENDEZVOUS_SECRET_FILE"] == "/f"


def test_repeats_count_toward_the_point_limit() -> None:
    text = (
        "[[matrix]]\nmodel = 'mnist_mlp'\nrepeats = 1000\nseed = ["
        + ",".join(str(i) for i in range(MAX_POINTS // 1000 + 1))
        + "]\n"
    )
    with pytest.raises(SpecError, match="with repeats the plan has more than"):
        parse_suite(text, "t.toml")
    many = [make_spec(seed=i, repeats=1000) for i in range(MAX_POINTS // 1000 + 1)]
    with pytest.raises(SpecError, match="with repeats"):
        expand_repeats(many)
    assert len(expand_repeats([make_spec(repeats=3)])) == 3


def test_a_file_named_like_a_builtin_suite_does_not_replace_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "quick").write_text(
        "[[matrix]]\nmodel = 'hub_llama3_tiny'\nnum_hosts = 2\ncoordinator = 'h:1'\n"
    )
    monkeypatch.chdir(tmp_path)
    assert {s.model for s in load_suite("quick").expand(default_backends=["jax"])} == {
        "mnist_mlp",
        "resnet50",
    }
    (tmp_path / "mine.toml").write_text("[[matrix]]\nmodel = 'gru'\n")
    assert load_suite("mine.toml").expand(default_backends=["jax"])[0].model == "gru"
    assert load_suite("./quick").blocks[0]["model"] == "hub_llama3_tiny"  # a path when it says so
