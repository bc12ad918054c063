"""``kerasbench list``: the models, suites or backends this kerasbench knows."""

from __future__ import annotations

import argparse
from typing import Any

from kerasbench.commands import EXIT_OK, console

HELP = "list models, suites or backends"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", nargs="?", choices=("models", "suites", "backends"), default="models")


def main(args: argparse.Namespace) -> int:
    table = {"models": _models, "suites": _suites, "backends": _backends}[args.what]()
    console().print(table)
    return EXIT_OK


def _models() -> Any:
    from rich.markup import escape
    from rich.table import Table

    from kerasbench.models import MODELS

    table = Table("model", "batch", "input", "output", "optimizer", "description")
    for m in MODELS.values():
        table.add_row(
            m.name,
            str(m.default_batch_size),
            m.describe_input(),
            m.describe_output() + (" (+generate)" if m.causal_lm else ""),
            m.optimizer,
            escape(m.description),
            style="dim" if m.tiny_of else None,
        )
    table.add_row(
        "user:NAME",
        "32",
        "from the model",
        "from the model",
        "its own",
        escape(
            "your own model: --model-path FILE.keras (safe_mode; --trust-model-code for "
            "Lambda/custom code, --custom-objects FILE.py) or FILE.py:FUNCTION / "
            "MODULE:FUNCTION (--model-args k=v,...); --input-shapes name=AxB for unknown dims"
        ),
    )
    table.caption = (
        "batch: default global batch. Dim rows: tiny variants for tests. "
        "Every model runs fit, train_on_batch and predict (unless its description says not); "
        "causal LMs also generate. optimizer: the reference one (--optimizer overrides)."
    )
    return table


def _suites() -> Any:
    from rich.markup import escape
    from rich.table import Table

    from kerasbench.suite import load_suite, suite_names

    table = Table("suite", "points*", "description")
    for name in suite_names():
        suite = load_suite(name)
        count = len(suite.expand(default_backends=["jax"]))
        table.add_row(name, str(count), escape(suite.description))
    table.caption = "* points per backend"
    return table


def _backends() -> Any:
    from rich.markup import escape
    from rich.table import Table

    from kerasbench import backends

    table = Table("backend", "installed", "version", "keras", "install with")
    table.caption = (
        "legacy backends (Keras 2) and the native baselines run only when named: "
        "--backends tf-keras,mxnet,torch-native,jax-native"
    )
    for name, info in backends.BACKENDS.items():
        missing = backends.missing_packages(name)
        table.add_row(
            name,
            "yes" if not missing else f"no (missing {', '.join(missing)})",
            backends.backend_version(name) or "-",
            backends.keras_version(name) or "-",
            escape(info.install_hint),
        )
    return table
