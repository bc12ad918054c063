"""Bad suite files and flags: one clear error naming the file or flag, exit 2, no worker.

The property tests drive the real CLI entry point in-process (``cli.main``) with
random and garbage input; whatever comes in, the answer is exit 0 or 2 and never
a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasbench import cli
from kerasbench.backends import BACKENDS
from kerasbench.models import MODELS
from kerasbench.orchestrate import point
from kerasbench.spec import MODES, SPEC_KEYS, Spec, SpecError


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_workers(monkeypatch):
    """Fail the test if anything tries to start a process."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a process was started: {args[:1]}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(point, "run_point", refuse)


BAD_SUITES = [
    (
        "[defaults]\nmodel = 'mnist_mlp'\nbatch_size = 0\n",
        "batch_size: 0 is out of range [1, 1048576]; leave the key",
    ),
    ("[defaults]\nmodel = 'mnist_mlp'\nsteps = -5\n", "steps: -5 is out of range"),
    ("[[matrix]]\nmodel = 'mnist_mlp'\ndevices = 2000\n", "devices: 2000 is out of range"),
    ("[[matrix]]\nmodel = 'nosuch'\n", "model: unknown value 'nosuch'; valid: "),
    ("[[matrix]]\nmodel = 'mnist_mlp'\nbackend = 'theano'\n", "backend: unknown value 'theano'"),
    ("[[matrix]]\nmodel = 'mnist_mlp'\nmodle = 1\n", "unknown key 'modle'; valid: "),
    ("[defaults]\nmodel = 'mnist_mlp'\nsteps = '20'\n", "steps: expected an integer, got '20'"),
    ("[defaults]\nmodel = 'mnist_mlp'\ntimeout = nan\n", "timeout: nan is out of range"),
    ("[defaults]\nmodel = 'mnist_mlp'\nwindow_steps = 0\n", "window_steps: 0 is out of range"),
    ("[[matrix]]\nmodel = []\n", "model is an empty list"),
    ("[[matrix]]\nmodel = 'mnist_mlp'\nsteps = [1, 0]\n", "steps: 0 is out of range"),
    ("matrix = 3\n", "matrix must be a non-empty array of tables"),
    ("[defaults\n", "malformed TOML"),
    ("steps = 3\n", "unknown top-level key 'steps'"),
    ("[[matrix]]\nmodel = 'mnist_mlp'\nseed = " + "[" * 2000 + "]" * 2000, "malformed TOML"),
    (
        "[[matrix]]\nmodel = 'mnist_mlp'\nseed = " + str(list(range(400))) + "\n"
        "steps = " + str(list(range(1, 400))) + "\n",
        "more than 100000 points",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_SUITES)
def test_bad_suite_file_is_one_line_naming_file_and_key(
    tmp_path: Path, no_workers, text: str, message: str
) -> None:
    path = tmp_path / "my_suite.toml"
    path.write_text(text)
    code, out, err = run_cli("run", "--suite", str(path), "--results", str(tmp_path / "r.db"))
    assert code == 2
    assert err.startswith(f"kerasbench: error: {path}: ") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "r.db").exists()  # nothing ran, not even a store was made


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--batch-size", "0"], "--batch-size: batch_size: 0 is out of range"),
        (["--batch-size", "32,0"], "--batch-size: batch_size: 0 is out of range"),
        (["--steps", "-1"], "--steps: steps: -1 is out of range"),
        (["--devices", "1025"], "--devices: devices: 1025 is out of range"),
        (["--timeout", "0"], "--timeout: timeout: 0.0 is out of range"),
        (["--timeout", "inf"], "--timeout: timeout: inf is out of range"),
        (["--models", "mnist_mlp,nosuch"], "--models: model: unknown value 'nosuch'"),
        (["--modes", "train"], "--modes: mode: unknown value 'train'"),
        (["--backends", "theano"], "--backends: backend: unknown value 'theano'"),
        (["--precision", "fp8"], "--precision: precision: unknown value 'fp8'"),
        (["--suite", "nosuch"], "unknown suite 'nosuch'; valid: "),
        (["--suite", "missing.toml"], "missing.toml: no such suite file"),
    ],
)
def test_bad_flag_is_named(tmp_path: Path, no_workers, flags: list[str], message: str) -> None:
    code, _, err = run_cli("run", *flags, "--results", str(tmp_path / "r.db"))
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_argparse_errors_return_2_in_process(no_workers) -> None:
    code, _, err = run_cli("run", "--steps", "many")
    assert code == 2 and "invalid int value" in err
    assert run_cli("--version")[0] == 0


def test_suite_path_that_is_not_a_regular_file(tmp_path: Path, no_workers) -> None:
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    assert "no such suite file" in run_cli("run", "--suite", str(folder))[2]
    assert "no such suite file" in run_cli("run", "--suite", "/dev/zero")[2]  # never read
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (2 << 20))
    assert "larger than" in run_cli("run", "--suite", str(big))[2]


def test_absent_sizes_mean_the_model_default() -> None:
    spec = Spec(model="mnist_mlp", backend="jax", steps=30)
    assert spec.batch_size is None and spec.window_steps is None
    resolved = spec.resolved()
    assert resolved.batch_size == MODELS["mnist_mlp"].default_batch_size
    assert resolved.window_steps == 3
    # A resolved spec survives its JSON trip to the worker.
    assert Spec.from_dict(json.loads(json.dumps(resolved.to_dict()))) == resolved
    with pytest.raises(SpecError, match="batch_size: 0 is out of range"):
        Spec(model="mnist_mlp", backend="jax", batch_size=0)


# --- property tests -------------------------------------------------------------------

NAMES = [*MODELS, *BACKENDS, *MODES, "float32", "channels_first", "auto", "gpu", "cpu"]
scalars = st.one_of(
    st.integers(-3, 5000),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(NAMES),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))
keys = st.one_of(st.sampled_from(sorted(SPEC_KEYS)), st.text(max_size=8))


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(toml_value(v) for v in value) + "]"  # a list


def toml_table(table: dict[str, object]) -> str:
    return "".join(
        f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}\n" for k, v in table.items()
    )


@st.composite
def suite_texts(draw) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append(f"description = {toml_value(draw(scalars))}\n")
    if draw(st.booleans()):
        parts.append("[defaults]\n" + toml_table(draw(st.dictionaries(keys, values, max_size=4))))
    for block in draw(st.lists(st.dictionaries(keys, values, max_size=5), max_size=3)):
        parts.append("[[matrix]]\n" + toml_table(block))
    return "\n".join(parts)


PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check_answer(code: int, err: str, path: Path | None = None) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2 and err.startswith("kerasbench: error:"):
        assert err.count("\n") == 1, err
        if path is not None:
            assert str(path) in err or "no benchmark points" in err, err


@PROPERTY
@given(text=suite_texts())
def test_random_suites_never_raise(tmp_path: Path, no_workers, text: str) -> None:
    path = tmp_path / "random.toml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli("run", "--dry-run", "--suite", str(path))
    check_answer(code, err, path)


@PROPERTY
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_garbage_suite_files_never_raise(tmp_path: Path, no_workers, data: bytes) -> None:
    path = tmp_path / "garbage.toml"
    path.write_bytes(data)
    code, _, err = run_cli("run", "--dry-run", "--suite", str(path))
    check_answer(code, err, path)


FLAGS = [
    "--backends",
    "--models",
    "--modes",
    "--batch-size",
    "--steps",
    "--warmup",
    "--window-steps",
    "--precision",
    "--data-format",
    "--jit-compile",
    "--devices",
    "--device-kind",
    "--image-size",
    "--seed",
    "--timeout",
    "--label",
    "--suite",
]
flag_values = st.one_of(
    st.text(max_size=15),
    st.sampled_from(["0", "-1", "1", "1025", "nan", "inf", "1e9", "jax,torch", ",", " , ", ""]),
    st.sampled_from(NAMES),
    st.integers(-(2**40), 2**40).map(str),
)


@PROPERTY
@given(pairs=st.lists(st.tuples(st.sampled_from(FLAGS), flag_values, st.booleans()), max_size=5))
def test_random_flags_never_raise(tmp_path: Path, no_workers, pairs) -> None:
    argv = ["run", "--dry-run", "--results", str(tmp_path / "r.db")]
    for flag, value, joined in pairs:
        argv += [f"{flag}={value}"] if joined else [flag, value]
    code, _, err = run_cli(*argv)
    check_answer(code, err)
