"""``kerasbench compare``: two result sets point by point; exit 1 on a significant regression."""

from __future__ import annotations

import argparse
import sys

from kerasbench.commands import UsageError

HELP = "compare two result sets point by point; exit 1 on a significant regression"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("base", metavar="BASE", help="results store or JSON export")
    p.add_argument("new", metavar="NEW", nargs="?", help="results store or JSON (default: BASE)")
    p.add_argument("--base-label", help="only BASE results with this label")
    p.add_argument("--new-label", help="only NEW results with this label")
    p.add_argument(
        "--threshold", default="5%", help="smallest throughput change that counts (default 5%%)"
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (0.05)")
    p.add_argument("--format", choices=("text", "json"), default="text")


def main(args: argparse.Namespace) -> int:
    from kerasbench.report import verdicts as compare

    if args.new is None and not (args.base_label or args.new_label):
        raise UsageError("compare needs NEW, or --base-label/--new-label within BASE")
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha: {args.alpha} is out of range (0, 1)")
    try:
        threshold = compare.parse_threshold(args.threshold)
        base = compare.load_results(args.base, args.base_label)
        new = compare.load_results(args.new or args.base, args.new_label)
    except compare.CompareError as exc:
        raise UsageError(str(exc)) from None
    if not base or not new:
        side = "BASE" if not base else "NEW"
        raise UsageError(f"{side} holds no results (check the path and --*-label)")
    result = compare.compare(base, new, threshold, args.alpha)
    if args.format == "json":
        sys.stdout.write(compare.to_json(result))
    else:
        print("\n".join(compare.format_lines(result)))
    return result.exit_code
