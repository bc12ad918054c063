"""One place turns every exception into an exit code and one line; suite TOML never tracebacks."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasbench import cli
from kerasbench.commands import EXIT_INTERNAL, EXIT_USAGE
from kerasbench.commands import env as env_command
from kerasbench.data.cifar10 import DataError
from kerasbench.spec import SpecError
from kerasbench.store import StoreError
from kerasbench.suite import parse_suite


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "exc, code",
    [
        (SpecError("steps: bad"), EXIT_USAGE),
        (StoreError("r.db: not a results store"), EXIT_USAGE),
        (DataError("data_batch_1: not a CIFAR-10 batch"), EXIT_USAGE),
        (FileNotFoundError(2, "No such file or directory", "x.db"), EXIT_USAGE),
        (RuntimeError("a bug\nwith two lines"), EXIT_INTERNAL),
        (KeyError("oops"), EXIT_INTERNAL),
    ],
)
def test_each_exception_is_one_line_with_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, exc: Exception, code: int
) -> None:
    def fail(args: object) -> int:
        raise exc

    monkeypatch.setattr(env_command, "main", fail)
    got, out, err = run_cli("env")
    assert got == code
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("kerasbench: internal error:" if code == 4 else "kerasbench: error:")


def test_usage_errors_from_argparse_keep_exit_2() -> None:
    assert run_cli("run", "--steps", "x")[0] == EXIT_USAGE
    assert run_cli("nosuchcommand")[0] == EXIT_USAGE


def test_readme_documents_every_exit_code() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ("0", "1", "2", "3", "4", "128"):
        assert f"`{code}" in section, code


TOML_TEXT = st.text(
    alphabet=st.sampled_from(list("[]=\"'.,{}#\n\t abcdefgmnorstuxyz0123456789_-+") + ["\\"]),
    max_size=200,
)
KEYS = st.sampled_from(["model", "backend", "mode", "steps", "batch_size", "repeats", "seed", "x"])
VALUES = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["mnist_mlp", "jax", "fit", "hub_llama3_tiny"]),
    st.lists(st.sampled_from(["mnist_mlp", "fit", 1, 0, "x"]), max_size=4),
)


def _toml_value(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return json.dumps(value)


def _parses_or_refuses(text: str) -> None:
    try:
        suite = parse_suite(text, "f.toml")
    except SpecError as exc:
        assert "\n" not in str(exc).strip() or "malformed TOML" in str(exc)
        assert str(exc).startswith("f.toml")
    else:
        assert suite.expand(default_backends=["jax"]) is not None


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(TOML_TEXT)
def test_fuzzed_suite_text_is_a_suite_or_one_spec_error(text: str) -> None:
    _parses_or_refuses(text)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=5), st.dictionaries(KEYS, VALUES, max_size=4))
def test_fuzzed_suite_tables_are_a_suite_or_one_spec_error(block: dict, defaults: dict) -> None:
    lines = ["[defaults]", *(f"{k} = {_toml_value(v)}" for k, v in defaults.items())]
    lines += ["[[matrix]]", *(f"{k} = {_toml_value(v)}" for k, v in block.items())]
    _parses_or_refuses("\n".join(lines) + "\n")
