"""python benchmarks/fault_injection.py [--points 20] [--faults 6] [--timeout 60] [--backend B]

Runs one suite of tiny mnist_mlp predict points (seeds 0..points-1, one backend)
through the real runner twice: once with random points killed, hung or crashed
(KERASBENCH_DEBUG_FAULTS, see kerasbench/worker/faults.py), once without. Prints
the points lost (planned minus saved; the target is 0), what each faulted point
was recorded as, the processes left behind (target 0), and the two suite times.
A hung point costs its timeout, so the faulty suite is expected to be slower by
about (hangs x timeout) minus the time the faulted points would have taken.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kerasbench import backends  # noqa: E402
from kerasbench.envinfo import collect  # noqa: E402
from kerasbench.orchestrate import run as runner  # noqa: E402
from kerasbench.spec import Spec  # noqa: E402
from kerasbench.store import Store  # noqa: E402
from kerasbench.worker import faults  # noqa: E402

KINDS = ("kill", "hang", "crash", "segfault", "exit3", "orphan")


def leftover_workers(folder: Path) -> list[int]:
    """Live processes whose command line mentions ``folder`` (where workers' temp dirs are)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(folder).encode() in cmdline and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def run_suite(specs: list[Spec], db: Path, fault_setting: str | None) -> tuple[float, list]:
    """Run the suite as one kerasbench run; returns (seconds, saved results in plan order)."""
    if fault_setting:
        os.environ[faults.ENV_VAR] = fault_setting
    else:
        os.environ.pop(faults.ENV_VAR, None)
    host = collect()
    started = time.perf_counter()
    with Store(db) as store:
        run_id, points = runner.begin(store, "fault_injection", "", sys.argv, host, specs)
        runner.execute(store, run_id, points, host, len(specs), show_progress=False)
        results = store.results(run_id=run_id, latest=False)
    os.environ.pop(faults.ENV_VAR, None)
    return time.perf_counter() - started, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--faults", type=int, default=6, help="points to break")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per point")
    parser.add_argument("--backend", help="default: the first installed training backend")
    parser.add_argument("--seed", type=int, default=0, help="picks which points break, and how")
    args = parser.parse_args()
    installed = backends.installed_backends(training_only=True)
    backend = args.backend or (installed[0] if installed else None)
    if backend is None:
        print("no Keras 3 training backend is installed", file=sys.stderr)
        return 2

    rng = random.Random(args.seed)
    broken = sorted(rng.sample(range(args.points), min(args.faults, args.points)))
    plan = {seed: KINDS[i % len(KINDS)] for i, seed in enumerate(broken)}
    setting = ";".join(f"{kind}@{seed}" for seed, kind in plan.items())
    specs = [
        Spec(
            model="mnist_mlp",
            backend=backend,
            mode="predict",
            batch_size=32,
            steps=2,
            warmup=0,
            window_steps=1,
            seed=seed,
            timeout=args.timeout,
        ).resolved()
        for seed in range(args.points)
    ]

    with tempfile.TemporaryDirectory(prefix="kb-faults-") as tmp:
        work = Path(tmp)
        tempfile.tempdir = str(work)  # workers' temp dirs land here, so leftovers are findable
        print(f"{args.points} points of mnist_mlp predict on {backend}; timeout {args.timeout:g} s")
        print(f"{faults.ENV_VAR}={setting}")
        faulty_s, faulty = run_suite(specs, work / "faulty.db", setting)
        left = leftover_workers(work)
        clean_s, clean = run_suite(specs, work / "clean.db", None)
        tempfile.tempdir = None

    print("\nfaulted points:")
    by_seed = {r.seed: r for r in faulty}
    for seed, kind in plan.items():
        r = by_seed.get(seed)
        recorded = f"{r.status}: {r.error}" if r else "LOST"
        print(f"  seed {seed:2d} {kind:9s} -> {recorded}")
    others = [r for r in faulty if r.seed not in plan]
    bad_others = [r for r in others if r.status != "ok"]
    print(f"\npoints lost with faults:    {args.points - len(faulty)} of {args.points}")
    print(f"points lost without faults: {args.points - len(clean)} of {args.points}")
    print(f"unfaulted points not ok:    {len(bad_others)} of {len(others)}")
    for r in bad_others:
        print(f"  seed {r.seed}: {r.status}: {r.error}")
    print(f"processes left behind:      {len(left)}")
    hangs = sum(kind == "hang" for kind in plan.values())
    print(f"\nsuite time with faults:     {faulty_s:7.1f} s ({hangs} hang(s) cost their timeout)")
    print(f"suite time without faults:  {clean_s:7.1f} s")
    print(f"ratio:                      {faulty_s / clean_s:7.2f}")
    lost = args.points - len(faulty)
    return 0 if lost == 0 and not left and not bad_others else 1


if __name__ == "__main__":
    raise SystemExit(main())
