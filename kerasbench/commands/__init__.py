"""The subcommands of ``kerasbench``: one module each, with ``add_arguments`` and ``main``.

Shared here: the exit codes, the bad-input exception, argument types and the
console. ``kerasbench.cli`` builds the parser from ``MODULES`` and maps errors
to exit codes.

Exit codes: 0 success; 1 a point failed or timed out (compare: a point
regressed); 2 bad input (nothing run); 3 a result could not be saved (it went
to a JSON lines file beside the store); 4 an internal error (a bug: please
report it); 128 + N when signal N (SIGINT, SIGTERM) stopped a run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_SAVED, EXIT_INTERNAL = 0, 1, 2, 3, 4
# In the order ``kerasbench --help`` lists them.
MODULES = (
    "run",
    "report",
    "list",
    "env",
    "setup",
    "compare",
    "parity",
    "history",
    "bisect",
    "store",
)


class UsageError(Exception):
    """Bad input from the user: reported on one line, exit 2."""


def console() -> Any:
    """A console for results; wide when piped, so tables are not cut to 80 columns."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def csv(value: str) -> list[str]:
    """An argparse type: a comma-separated list."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def csv_int(value: str) -> list[int]:
    """An argparse type: a comma-separated list of integers."""
    try:
        return [int(v) for v in csv(value)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers, got {value!r}") from None


def add_results(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--results",
        metavar="PATH|URL",
        help="results store: a file, or postgresql://user@host/db "
        "(default: $KERASBENCH_RESULTS or .kerasbench/results.db)",
    )


def print_overhead(out: Any, results: list[Any]) -> None:
    """The Keras-overhead table after the main one, when Keras and native rows pair up."""
    from kerasbench.report.overhead import overhead_rows, render_overhead_table

    rows = overhead_rows(results)
    if rows:
        out.print(render_overhead_table(rows))


def print_results(results: list[Any], fmt: str, ms_per_step: bool = False) -> None:
    """Results as a table (with its notes), Markdown, JSON or CSV on stdout; ``ms_per_step``
    adds keras.io's unit beside samples/s in the table and Markdown."""
    from kerasbench.report import formats
    from kerasbench.report.table import notes, render_table

    if fmt == "table":
        out = console()
        out.print(render_table(results, ms_per_step=ms_per_step))
        for note in notes(results):
            out.print(f"  {note}", highlight=False, markup=False)
        from kerasbench.report.latency import latency_table

        latency = latency_table(results)  # None without serving points
        if latency is not None:
            out.print(latency)
        print_overhead(out, results)
    elif fmt == "markdown":
        sys.stdout.write(formats.markdown(results, ms_per_step))
    elif fmt == "json":
        sys.stdout.write(formats.json_records(results))
    elif fmt == "csv":
        sys.stdout.write(formats.csv_records(results))
