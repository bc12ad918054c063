"""python benchmarks/harness_overhead.py [--rounds 3] [--steps 60] [--batch 32] [--backends ...]

How much does measuring through kerasbench cost? For each installed backend,
runs cifar10_cnn train_on_batch through kerasbench (``launch.run_point``, a
fresh worker each time) and through a bare hand-written loop
(``bare_loop.py``, also a fresh process), alternating the two so that drifts
in machine load hit both alike. Prints the median throughput of each and
the median of the per-round ratios (kerasbench / bare); the target is >= 0.98.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from kerasbench import backends
from kerasbench.envinfo import collect
from kerasbench.launch import run_point
from kerasbench.spec import Spec

HERE = Path(__file__).resolve().parent


def bare(backend: str, batch: int, steps: int, warmup: int) -> float:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run(
        [sys.executable, str(HERE / "bare_loop.py"), str(batch), str(steps), str(warmup)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["samples_per_sec"]


def through_kerasbench(backend: str, batch: int, steps: int, warmup: int) -> float:
    spec = Spec(
        model="cifar10_cnn",
        backend=backend,
        mode="train_on_batch",
        batch_size=batch,
        steps=steps,
        warmup=warmup,
        window_steps=max(1, steps // 10),
    )
    result = run_point(spec, collect())
    if result.status != "ok" or result.samples_per_sec is None:
        raise RuntimeError(f"{backend}: {result.status}: {result.error}")
    return result.samples_per_sec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--backends", default=",".join(backends.installed_backends(True)))
    args = parser.parse_args()
    print(
        f"{'backend':<11} {'kerasbench':>12} {'bare loop':>12} {'ratio':>7}"
        "   (samples/s, medians over rounds; ratio: median of the rounds' ratios)"
    )
    for backend in args.backends.split(","):
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(through_kerasbench(backend, args.batch, args.steps, args.warmup))
            theirs.append(bare(backend, args.batch, args.steps, args.warmup))
        # Each round's two runs are neighbours in time, so their ratio cancels most of
        # the machine's drift between rounds.
        ratios = [k / b for k, b in zip(ours, theirs, strict=True)]
        k, b = statistics.median(ours), statistics.median(theirs)
        each = " ".join(f"{r:.3f}" for r in ratios)
        print(
            f"{backend:<11} {k:>12.1f} {b:>12.1f} {statistics.median(ratios):>7.3f}"
            f"   rounds: {each}",
            flush=True,
        )


if __name__ == "__main__":
    main()
