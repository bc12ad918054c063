"""``kerasbench report``: show saved results as a table, Markdown, CSV, JSON, HTML or charts."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kerasbench.commands import EXIT_OK, UsageError, add_results, console, csv, print_results

HELP = "show saved results"


def _since(value: str) -> Any:
    from kerasbench.report.select import parse_since

    try:
        return parse_since(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_results(p)
    p.add_argument("--label")
    p.add_argument("--run", dest="run_id", help="only this run id")
    p.add_argument("--models", type=csv)
    p.add_argument("--backends", type=csv)
    p.add_argument("--all", action="store_true", help="every result, not the latest per point")
    p.add_argument(
        "--format", choices=("table", "markdown", "csv", "json", "html", "png"), default="table"
    )
    p.add_argument(
        "--unit",
        choices=("samples/s", "ms/step"),
        default="samples/s",
        help="ms/step: each cell also shows the median step time (keras.io's unit)",
    )
    p.add_argument("--since", type=_since, help="only results started at/after this ISO time")
    p.add_argument("--out", metavar="PATH", help="file to write (for png: a folder)")
    p.add_argument("--compare", metavar="BASE", help="html/png: compare with a label or run")
    p.add_argument(
        "--overhead",
        action="store_true",
        help="Keras over native throughput (jax vs jax-native, torch vs torch-native), 95%% CI",
    )
    p.add_argument(
        "--scaling",
        action="store_true",
        help="devices (and hosts) against throughput: speedup and scaling efficiency",
    )


def main(args: argparse.Namespace) -> int:
    from kerasbench.report.select import Query, select
    from kerasbench.store import open_store

    query = Query(
        label=args.label,
        run_id=args.run_id,
        models=args.models,
        backends=args.backends,
        since=args.since,
        latest=not args.all,
        compare=args.compare,
    )
    with open_store(args.results, create=False) as store:
        selection = select(store, query)
    results = selection.results
    if not results and args.format in ("table", "html", "png"):
        raise UsageError("no results match; run `kerasbench run` first or relax the filters")
    if args.scaling:
        return _print_scaling(results, args.format)
    if args.overhead:
        return _print_overhead(results, args.format, args.out)
    if args.out or args.format in ("html", "png"):
        from kerasbench.report.files import write_report

        try:
            for path in write_report(args.format, args.out, selection, query):
                print(path)
        except OSError as exc:
            raise UsageError(f"--out {exc.filename or args.out}: {exc.strerror or exc}") from None
    else:
        print_results(results, args.format, ms_per_step=args.unit == "ms/step")
    return EXIT_OK


def _print_scaling(results: list[Any], fmt: str) -> int:
    from kerasbench.report import scaling

    if fmt not in ("table", "markdown", "json"):
        raise UsageError(f"--scaling prints table, markdown or json, not {fmt}")
    table = scaling.scaling_table(results)
    if not table.rows and fmt == "table":
        raise UsageError(
            "no scaling lines: run one configuration at several device counts (e.g. --devices 1,2)"
        )
    if fmt == "table":
        console().print(scaling.render_scaling_table(table))
    elif fmt == "markdown":
        sys.stdout.write(scaling.scaling_markdown(table))
    else:
        sys.stdout.write(json.dumps(scaling.scaling_records(table), indent=2) + "\n")
    return EXIT_OK


def _print_overhead(results: list[Any], fmt: str, out: str | None) -> int:
    """The Keras-overhead view alone, as a table, Markdown, CSV or JSON (to ``out`` if given)."""
    from pathlib import Path

    from kerasbench.report import overhead

    rows = overhead.overhead_rows(results)
    if not rows and fmt == "table":
        raise UsageError(
            "no Keras/native pairs: run a model on jax and jax-native (or torch and "
            "torch-native) with the same settings, e.g. --suite native"
        )
    renderers = {
        "markdown": overhead.overhead_markdown,
        "csv": overhead.overhead_csv,
        "json": overhead.overhead_json,
    }
    if fmt == "table" and out is None:
        console().print(overhead.render_overhead_table(rows))
        return EXIT_OK
    if fmt not in renderers:
        raise UsageError(f"--overhead writes table, markdown, csv or json, not {fmt}")
    text = renderers[fmt](rows)
    if out is None:
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")
        print(out)
    return EXIT_OK
