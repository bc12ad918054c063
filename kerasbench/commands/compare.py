"""``kerasbench compare``: two result sets point by point; exit 1 on a significant regression.

Where both sides were interleaved in one run (two environments of ``run --env a,b``
or two labels of a suite, with ``--repeats``), the per-round paired ratios decide
(``orchestrate.interleave.paired``): each round ran both sides minutes apart at most,
so the machine's drift cancels in the ratio. A sentence says when the host itself
ran at another speed during NEW (``report.host_speed``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from kerasbench.commands import UsageError

HELP = "compare two result sets point by point; exit 1 on a significant regression"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("base", metavar="BASE", help="results store (file or URL) or JSON export")
    p.add_argument("new", metavar="NEW", nargs="?", help="results store or JSON (default: BASE)")
    p.add_argument("--base-label", help="only BASE results with this label")
    p.add_argument("--new-label", help="only NEW results with this label")
    p.add_argument("--base-env", help="only BASE results run in this named environment")
    p.add_argument("--new-env", help="only NEW results run in this named environment")
    p.add_argument(
        "--threshold", default="5%", help="smallest throughput change that counts (default 5%%)"
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (0.05)")
    p.add_argument("--format", choices=("text", "json"), default="text")


def _load(where: str, label: str | None, env: str | None) -> list[Any]:
    from kerasbench.report import verdicts
    from kerasbench.store import is_url, open_store

    if is_url(where):
        with open_store(where, create=False) as store:
            results = store.results(label=label)
    else:
        results = verdicts.load_results(where, label)
    return results if env is None else [r for r in results if r.env == env]


def main(args: argparse.Namespace) -> int:
    from kerasbench.orchestrate import interleave
    from kerasbench.report import verdicts as compare
    from kerasbench.report.host_speed import host_speed_line

    sides = (args.base_label, args.new_label, args.base_env, args.new_env)
    if args.new is None and not any(sides):
        raise UsageError("compare needs NEW, or --base-label/--new-label (--base-env/--new-env)")
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha: {args.alpha} is out of range (0, 1)")
    try:
        threshold = compare.parse_threshold(args.threshold)
        base = _load(args.base, args.base_label, args.base_env)
        new = _load(args.new or args.base, args.new_label, args.new_env)
    except compare.CompareError as exc:
        raise UsageError(str(exc)) from None
    if not base or not new:
        side = "BASE" if not base else "NEW"
        raise UsageError(f"{side} holds no results (check the path and --*-label/--*-env)")
    by_env = args.base_env is not None or args.new_env is not None
    if by_env:  # the environment is the side, not part of the configuration here
        base = [dataclasses.replace(r, env="") for r in base]
        new = [dataclasses.replace(r, env="") for r in new]
    result = compare.compare(base, new, threshold, args.alpha)
    pairs = interleave.paired(base, new, "env" if by_env else "label")
    host = host_speed_line(base, new)
    if args.format == "json":
        sys.stdout.write(compare.to_json(result))
    else:
        lines = compare.format_lines(result)
        lines += interleave.paired_lines(pairs, threshold, args.alpha)
        if host:
            lines.append(f"  note: {host}")
        print("\n".join(lines))
    return _exit_code(result, pairs, threshold, args.alpha)


def _exit_code(result: Any, pairs: list[Any], threshold: float, alpha: float) -> int:
    """1 when a point regressed: by its paired rounds where it has them, else unpaired."""
    from kerasbench.orchestrate import interleave
    from kerasbench.report import verdicts as compare

    paired = {p.key: interleave.paired_verdict(p, threshold, alpha) for p in pairs}
    for point in result.points:
        verdict = paired.get(point.point_key)
        if verdict == "regression" or (verdict is None and point.verdict == compare.REGRESSION):
            return 1
    return 0
