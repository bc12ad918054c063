"""python benchmarks/repeatability.py [--keep DB] [kerasbench run flags: --suite quick ...]

Runs the same suite twice in a row into one fresh store (labels "first" and
"second"), then prints each point's throughput ratio second/first, the median
|1 - ratio| (target: at most 3%), and ``kerasbench compare`` of the two runs
(target: no regression). Extra flags pass through to ``kerasbench run``.

Each point runs in 3 processes per run unless ``--repeats`` says otherwise:
two processes of one point differ by several % on a shared machine, so one
process a side measures that luck, not the harness; the ratios are of the
pooled medians, and compare tests over processes. The spread between each
point's processes (CV of their medians) is printed beside its ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from kerasbench.report.pool import pool_repeats
from kerasbench.report.verdicts import compare, format_lines
from kerasbench.store import Store


def run(store: Path, label: str, extra: list[str]) -> None:
    command = [sys.executable, "-m", "kerasbench", "run", "--results", str(store)]
    subprocess.run([*command, "--label", label, *extra], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="DB", help="store to keep (default: a temporary one)")
    args, extra = parser.parse_known_args()
    if not any(a == "--repeats" or a.startswith("--repeats=") for a in extra):
        extra = [*extra, "--repeats", "3"]
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(args.keep or Path(tmp) / "repeat.db")
        run(store, "first", extra)
        run(store, "second", extra)
        with Store(store, create=False) as s:
            first, second = s.results(label="first"), s.results(label="second")
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
    print("\n" + "\n".join(format_lines(result)))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
