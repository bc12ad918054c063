"""python benchmarks/sensitivity.py [--model cifar10_cnn] [--backend jax] [--mode train_on_batch]

Runs one point with two cores and with one (``taskset -c 0`` around the whole
kerasbench run, so the worker inherits the affinity), alternating
two, one, two, one, so that a drift of the machine hits both alike. Then
``kerasbench compare`` of two cores (base) against one core (new) must report
a regression and exit 1; this script exits 0 when it does.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from kerasbench.report.verdicts import compare, format_lines
from kerasbench.store import Store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cifar10_cnn")
    parser.add_argument("--backend", default="jax")
    parser.add_argument("--mode", default="train_on_batch")
    parser.add_argument("--max-time", default="20")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("taskset"):
        print("taskset not found (util-linux); cannot pin to one core", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "sensitivity.db"
        point = [
            sys.executable, "-m", "kerasbench", "run", "--results", str(store),
            "--models", args.model, "--backends", args.backend, "--modes", args.mode,
            "--target-ci", "0.02", "--max-time", args.max_time,
        ]  # fmt: skip
        for _ in range(args.rounds):
            subprocess.run([*point, "--label", "two_cores"], check=False)
            subprocess.run(["taskset", "-c", "0", *point, "--label", "one_core"], check=False)
        with Store(store, create=False) as s:
            # Every round of a label: the windows of all its runs are pooled per side.
            two = s.results(label="two_cores", latest=False)
            one = s.results(label="one_core", latest=False)
    # Pool the rounds of each side (compare keeps one run per side otherwise).
    two = [replace(r, run_id="two_cores") for r in two]
    one = [replace(r, run_id="one_core") for r in one]
    result = compare(two, one)
    print("\n".join(format_lines(result)))
    flagged = result.exit_code == 1
    print(f"compare flagged the one-core run as a regression: {'yes' if flagged else 'NO'}")
    return 0 if flagged else 1


if __name__ == "__main__":
    sys.exit(main())
