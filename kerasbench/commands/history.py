"""``kerasbench history``: each configuration's results over time or versions, change points.

Exit 1 when the newest segment of a configuration is a significant regression beyond
``--threshold`` (so CI can gate on it); 0 otherwise.
"""

from __future__ import annotations

import argparse

from kerasbench.commands import EXIT_OK, UsageError, add_results, csv

HELP = "each configuration's results over time (or --by a package's version), change points"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_results(p)
    p.add_argument("--models", type=csv, help="only these models")
    p.add_argument("--backends", type=csv, help="only these backends")
    p.add_argument("--label", help="only results with this label")
    p.add_argument(
        "--by",
        metavar="PKG",
        help="order by this package's version (e.g. keras, jax) instead of by date",
    )
    p.add_argument(
        "--threshold",
        default="5%",
        help="a newest-segment slowdown beyond this (and significant) exits 1 (default 5%%)",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (0.05)")
    p.add_argument("--format", choices=("text", "html"), default="text")
    p.add_argument("--out", metavar="FILE", help="html: the page to write")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kerasbench.history import build_series, detect, exit_code, report_lines
    from kerasbench.report.verdicts import CompareError, parse_threshold
    from kerasbench.store import open_store

    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha: {args.alpha} is out of range (0, 1)")
    if args.format == "html" and not args.out:
        raise UsageError("--format html needs --out FILE")
    try:
        threshold = parse_threshold(args.threshold)
    except CompareError as exc:
        raise UsageError(f"--{exc}") from None
    with open_store(args.results, create=False) as store:
        results = store.results(
            label=args.label, models=args.models, backends=args.backends, latest=False
        )
    series = build_series(
        results, by=args.by, models=args.models or (), backends=args.backends or ()
    )
    histories = [detect(s, alpha=args.alpha) for s in series]
    print("\n".join(report_lines(histories, threshold, args.alpha)))
    if args.format == "html":
        from kerasbench.report.history_page import write_history

        try:
            print(write_history(Path(args.out), histories, threshold))
        except OSError as exc:
            raise UsageError(f"--out {args.out}: {exc.strerror or exc}") from None
    code = exit_code(histories, threshold, args.alpha)
    return code if code else EXIT_OK
