"""kerasbench {run,report,list,env,setup,compare,parity} ... : the command line, kept thin.

The parser is built from ``kerasbench.commands`` (one module per subcommand);
this module dispatches and is the one place that turns an exception into an
exit code and a one-line message (see ``kerasbench.commands`` for the codes):
bad input (a suite, a flag, a store, a dataset, an environment) is 2, any other
exception is an internal error, 4, with its traceback only under
``KERASBENCH_TRACEBACK=1``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from kerasbench import __version__
from kerasbench.commands import EXIT_INTERNAL, EXIT_USAGE, MODULES, UsageError


def _command(name: str) -> ModuleType:
    return importlib.import_module(f"kerasbench.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand, each registered by its own module."""
    parser = argparse.ArgumentParser(
        prog="kerasbench", description="Compare Keras backends on models, machines and settings."
    )
    parser.add_argument("--version", action="version", version=f"kerasbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in MODULES:
        module = _command(name)
        module.add_arguments(sub.add_parser(name, help=module.HELP))
    return parser


def bad_input_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the input is wrong", not "kerasbench is wrong": exit 2."""
    from kerasbench.data.cifar10 import DataError
    from kerasbench.legacy.envs import EnvError
    from kerasbench.report.exports import CompareError
    from kerasbench.spec import SpecError
    from kerasbench.store import StoreError
    from kerasbench.usermodel import UserModelError

    # OSError: a path the user gave that cannot be read or written.
    return (
        UsageError,
        SpecError,
        StoreError,
        DataError,
        CompareError,
        EnvError,
        UserModelError,
        OSError,
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 2000 else text[:2000] + "..."


def _stacks_on_sigusr1() -> None:
    """`kill -USR1 PID` prints every thread's stack to stderr: where a stuck run is stuck."""
    import faulthandler
    import signal

    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # run as a program, not called by a test or a script
        _stacks_on_sigusr1()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (or --help)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return _command(args.command).main(args)
    except KeyboardInterrupt:
        print("kerasbench: interrupted; finished results are saved", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place an exception becomes an exit code
        if isinstance(exc, bad_input_errors()):
            print(f"kerasbench: error: {_one_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        if os.environ.get("KERASBENCH_TRACEBACK") == "1":
            import traceback

            traceback.print_exc()
        print(
            f"kerasbench: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(a bug; KERASBENCH_TRACEBACK=1 shows where)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
