"""python benchmarks/repeatability.py [kerasbench run flags: --suite quick --backends jax ...]

Runs the same suite twice in a row into one fresh store (labels "first" and
"second"), then prints each point's throughput ratio second/first, the median
|1 - ratio| (target: at most 3%), and ``kerasbench compare`` of the two runs
(target: no regression). Extra flags pass through to ``kerasbench run``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from kerasbench.report.compare import compare, format_lines
from kerasbench.store import Store


def run(store: Path, label: str, extra: list[str]) -> None:
    command = [sys.executable, "-m", "kerasbench", "run", "--results", str(store)]
    subprocess.run([*command, "--label", label, *extra], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="DB", help="store to keep (default: a temporary one)")
    args, extra = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(args.keep or Path(tmp) / "repeat.db")
        run(store, "first", extra)
        run(store, "second", extra)
        with Store(store, create=False) as s:
            first, second = s.results(label="first"), s.results(label="second")
    result = compare(first, second)
    ratios = [p.ratio for p in result.points if p.ratio is not None]
    print("\nper-point ratio second/first:")
    for p in result.points:
        if p.ratio is not None:
            print(f"  {p.model:<14} {p.backend:<11} {p.mode:<15} {p.ratio:.3f}")
    if ratios:
        spread = statistics.median(abs(1 - r) for r in ratios)
        print(f"median |1 - ratio| over {len(ratios)} points: {spread:.1%} (target <= 3%)")
    print("\n" + "\n".join(format_lines(result)))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
