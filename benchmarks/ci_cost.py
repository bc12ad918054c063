"""python benchmarks/ci_cost.py [--model cifar10_cnn] [--backends jax,torch] [--target 0.02]

How long kerasbench needs to know a median to ±2% (95% CI): runs the model
with ``--target-ci`` on each backend and prints, per backend, the stop reason,
windows, timed seconds (sum of the windows), the worker's whole wall time, and
the CI half-width reached.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cifar10_cnn")
    parser.add_argument("--backends", default="jax,tensorflow,torch")
    parser.add_argument("--mode", default="train_on_batch")
    parser.add_argument("--target", default="0.02")
    parser.add_argument("--max-time", default="300")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "cost.db")
        base = [sys.executable, "-m", "kerasbench"]
        subprocess.run(
            [
                *base,
                "run",
                "--results",
                store,
                "--models",
                args.model,
                "--backends",
                args.backends,
                "--modes",
                args.mode,
                "--window-steps",
                "2",
                "--target-ci",
                args.target,
                "--max-time",
                args.max_time,
                "--min-windows",
                "5",
            ],  # fmt: skip
            check=False,
        )
        out = subprocess.run(
            [*base, "report", "--results", store, "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    print(f"\n{'backend':<11} {'stop':<10} {'windows':>7} {'timed s':>8} {'wall s':>7} {'CI ±':>6}")
    for r in json.loads(out):
        if r["status"] != "ok":
            print(f"{r['backend']:<11} {r['status']}: {r['error']}")
            continue
        low, high = r["samples_per_sec_ci"]
        half = (high - low) / 2 / r["samples_per_sec"]
        print(
            f"{r['backend']:<11} {r['stop_reason']:<10} {r['n_windows']:>7}"
            f" {sum(r['window_times_s']):>8.1f} {r['duration_s']:>7.1f} {half:>6.1%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
