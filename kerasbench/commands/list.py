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

    table = Table("model", "batch", "input", "output", "description")
    for m in MODELS.values():
        table.add_row(
            m.name,
            str(m.default_batch_size),
            m.describe_input(),
            m.describe_output() + (" (+generate)" if m.causal_lm else ""),
            escape(m.description),
            style="dim" if m.tiny_of else None,
        )
    table.caption = (
        "batch: default global batch. Dim rows: tiny variants for tests. "
        "Every model runs fit, train_on_batch and predict; causal LMs also generate."
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
