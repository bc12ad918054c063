"""python benchmarks/repeatability.py [--keep DB] [--interleave] [kerasbench run flags: ...]

Runs the same suite twice in a row into one fresh store (labels "first" and
"second"), then prints each point's throughput ratio second/first, the median
|1 - ratio| (target: at most 3%), and ``kerasbench compare`` of the two runs
(target: no regression). Extra flags pass through to ``kerasbench run``.

Each point runs in 3 processes per run unless ``--repeats`` says otherwise:
two processes of one point differ by several % on a shared machine, so one
process a side measures that luck, not the harness; the ratios are of the
pooled medians, and compare tests over processes. The spread between each
point's processes (CV of their medians) is printed beside its ratio.

``--interleave`` also runs the suite once with the environment as an axis of two
sides that are the same interpreter (``--env same-a,same-b``, registered in a
temporary kerasbench home), in ABBA rounds (``--repeats`` rounds), and prints the
median |1 - ratio| of the paired per-round ratios beside the sequential figure:
what interleaving buys on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from kerasbench.orchestrate.interleave import paired
from kerasbench.report.pool import pool_repeats
from kerasbench.report.verdicts import compare, format_lines
from kerasbench.store import Store


def run(store: Path, label: str, extra: list[str], env: dict[str, str] | None = None) -> None:
    command = [sys.executable, "-m", "kerasbench", "run", "--results", str(store)]
    subprocess.run([*command, "--label", label, *extra], check=False, env=env)


def interleaved(store: Path, home: Path, extra: list[str]) -> float | None:
    """Median |1 - paired ratio| of one run whose two env sides are this same interpreter."""
    import dataclasses
    import os

    from kerasbench.legacy import envs as legacy
    from kerasbench.orchestrate.point import launcher_versions

    for name in ("same-a", "same-b"):
        record = legacy.EnvRecord(
            name, str(home / "envs" / name), sys.executable, sys.version.split()[0], [],
            launcher_versions(), "", {"kind": "named"},
        )  # fmt: skip
        legacy.save_record(record, home)
    env = {**os.environ, "KERASBENCH_HOME": str(home)}
    run(store, "interleaved", [*extra, "--env", "same-a,same-b"], env)
    with Store(store, create=False) as s:
        results = s.results(label="interleaved")
    sides = [
        [dataclasses.replace(r, env="") for r in results if r.env == name]
        for name in ("same-a", "same-b")
    ]
    pairs = paired(sides[0], sides[1], "env")
    print("\nper-point paired ratio same-b/same-a (interleaved ABBA rounds):")
    for p in pairs:
        rounds = " ".join(f"{r:.3f}" for r in p.ratios)
        print(f"  {p.title:<44} {p.ratio:.3f}   rounds: {rounds}")
    if not pairs:
        return None
    return statistics.median(abs(1 - p.ratio) for p in pairs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="DB", help="store to keep (default: a temporary one)")
    parser.add_argument(
        "--interleave", action="store_true", help="also one interleaved run (see the doc)"
    )
    args, extra = parser.parse_known_args()
    if not any(a == "--repeats" or a.startswith("--repeats=") for a in extra):
        extra = [*extra, "--repeats", "3"]
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(args.keep or Path(tmp) / "repeat.db")
        run(store, "first", extra)
        run(store, "second", extra)
        with Store(store, create=False) as s:
            first, second = s.results(label="first"), s.results(label="second")
        spread_interleaved = (
            interleaved(store, Path(tmp) / "home", extra) if args.interleave else None
        )
    result = compare(first, second)
    ratios = [p.ratio for p in result.points if p.ratio is not None]
    process_cv = {
        (label, r.point_key): r.between_process_cv
        for label, results in (("first", first), ("second", second))
        for r in pool_repeats(results)
    }

    def cv(label: str, key: str) -> str:
        value = process_cv.get((label, key))
        return "-" if value is None else f"{value:.1%}"

    print("\nper-point ratio second/first (between-process CV in each run):")
    for p in result.points:
        if p.ratio is not None:
            print(
                f"  {p.model:<14} {p.backend:<11} {p.mode:<15} {p.ratio:.3f}"
                f"   CV {cv('first', p.point_key):>5} {cv('second', p.point_key):>5}"
            )
    if ratios:
        spread = statistics.median(abs(1 - r) for r in ratios)
        print(f"median |1 - ratio| over {len(ratios)} points: {spread:.1%} (target <= 3%)")
    if spread_interleaved is not None:
        print(
            f"interleaved (paired ABBA rounds), the same: {spread_interleaved:.1%} (target <= 3%)"
        )
    print("\n" + "\n".join(format_lines(result)))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
