"""``kerasbench bisect PACKAGE GOOD BAD``: the first release of PACKAGE that made a point slower.

Lists the releases from GOOD to BAD on the package index, makes an environment per
release it needs (``bisect-PACKAGE-VERSION``, reused when present), measures each
against GOOD in ABBA rounds through the orchestrator (a fresh worker per side and
round, in that environment's Python), and prints the table of what it tried
(kerasbench.envs.bisect). Exit 0 when it ran (whether or not a slower release was
found), 2 on bad input (a version the index lacks, a package pip cannot install).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from kerasbench.commands import EXIT_OK, UsageError

HELP = "find the first release of a package that made a configuration slower"
# Tests set this False to build environments of fake wheels without numpy.
WORKER_DEPS = True


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("package", metavar="PACKAGE", help="e.g. keras, jax")
    p.add_argument("good", metavar="GOOD", help="a release known to be fast")
    p.add_argument("bad", metavar="BAD", help="a newer release known (or thought) to be slower")
    p.add_argument("--model", required=True)
    p.add_argument("--backend", required=True)
    p.add_argument("--mode", default="train_on_batch")
    p.add_argument("--batch-size", type=int, help="default: the model's")
    p.add_argument("--steps", type=int, default=20, help="timed steps per measurement (20)")
    p.add_argument("--threshold", default="5%", help="slowdown that counts (default 5%%)")
    p.add_argument(
        "--rounds", type=int, default=4, help="ABBA rounds per comparison, 2 or more (4)"
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (0.05)")
    p.add_argument(
        "--pip", nargs="*", default=[], metavar="SPEC", help="more packages for every environment"
    )
    p.add_argument("--python", metavar="PATH", help="interpreter of the environments")
    p.add_argument("--index-url", metavar="URL", help="package index (default: pip's)")
    p.add_argument("--find-links", action="append", default=[], metavar="DIR")
    p.add_argument("--no-index", action="store_true", help="only --find-links folders")


def point_spec(args: argparse.Namespace) -> Any:
    """The configuration measured in every environment."""
    from kerasbench.spec import Spec

    extra = {"batch_size": args.batch_size} if args.batch_size else {}
    return Spec(
        model=args.model,
        backend=args.backend,
        mode=args.mode,
        steps=args.steps,
        target_ci=0.0,
        **extra,
    ).resolved()


def window_speeds(result: Any) -> list[float]:
    """Each timed window's throughput, in the result's unit (its median scaled per window)."""
    windows = result.window_times_s
    middle = statistics.median(windows)
    return [result.samples_per_sec * middle / w for w in windows]


def make_measure(spec: Any, log: Callable[[str], None] = print) -> Callable[[str], Sequence[float]]:
    """``measure(env) -> window throughputs``: ``spec`` run in that env by a fresh worker."""
    from kerasbench import envinfo
    from kerasbench.envs import EnvError
    from kerasbench.orchestrate import point

    host = envinfo.collect()
    gpus = point.gpu_count()

    def measure(env: str) -> list[float]:
        result = point.run_point(dataclasses.replace(spec, env=env), host, None, gpus)
        if result.status != "ok" or not result.window_times_s:
            why = (result.error or "").strip().splitlines()[-1:] or [result.status]
            raise EnvError(f"{spec.model} {spec.backend} in {env or 'this Python'}: {why[0]}")
        log(f"  {env or 'this Python'}: {result.samples_per_sec:,.1f} {result.throughput_unit}")
        return window_speeds(result)

    return measure


def main(args: argparse.Namespace) -> int:
    from kerasbench.envs.bisect import bisect, env_builder, released_versions, table_lines
    from kerasbench.envs.named import Index
    from kerasbench.report.verdicts import CompareError, parse_threshold

    if args.rounds < 2:  # the test is paired over rounds
        raise UsageError(f"--rounds: {args.rounds} must be at least 2")
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha: {args.alpha} is out of range (0, 1)")
    try:
        threshold = parse_threshold(args.threshold)
    except CompareError as exc:
        raise UsageError(f"--{exc}") from None
    spec = point_spec(args)
    index = Index(args.index_url, tuple(args.find_links), args.no_index)
    versions = released_versions(args.package, args.good, args.bad, index=index)
    print(f"{args.package}: {len(versions)} releases from {args.good} to {args.bad}")
    build = env_builder(
        args.package, args.pip, index=index, python=args.python, worker_deps=WORKER_DEPS
    )
    found = bisect(
        args.package,
        versions,
        make_measure(spec),
        build,
        threshold=threshold,
        rounds=args.rounds,
        alpha=args.alpha,
    )
    print("\n".join(table_lines(found, threshold)))
    return EXIT_OK
