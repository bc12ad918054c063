"""The machine's own speed: a short fixed reference probe timed around each benchmark point.

A shared or virtual machine changes speed under a benchmark (other tenants, thermal
limits, a noisy neighbour). Timing the same fixed work just before and just after each
point, and storing the figures with the result, lets a report say "this host ran 18%
slower during NEW" instead of leaving the reader to guess.

The probe is two fixed pieces of work, each repeated ``REPEATS`` times after one
untimed warm-up (first touch of the pages, thread start-up):

- compute: one Python thread per core of the machine (``os.cpu_count()``, not the
  process's affinity, so that a run confined by ``taskset`` shows as slower), each
  doing ``MATMUL_CALLS`` float64 matmuls of ``MATMUL_N`` x ``MATMUL_N`` (2 n^3 FLOPs
  each). The matrices are small enough that OpenBLAS runs each on one thread (its
  threshold is 64^3 multiply-adds), and numpy releases the GIL inside them, so the
  threads spread over the cores. One large BLAS-threaded matmul was tried first: on
  this shared two-core VM it ran 1-3 GFLOP/s on both cores and 11 on one, as BLAS
  threads spin-waited on each other: a figure about BLAS, not about the machine;
- memory: a copy of a ``COPY_BYTES`` array into another (larger than most last-level
  caches), one thread, counted as bytes read plus bytes written.

Each figure is the median over the repeats, not the best: a loaded machine is exactly
what the probe is for, and the best of several tries hides intermittent contention.
The whole probe takes well under 0.5 s on a two-core VM (about 0.1-0.2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import numpy as np

MATMUL_N = 64
MATMUL_CALLS = 600  # per thread and repeat: about 20 ms on one core at 20 GFLOP/s
COPY_BYTES = 64 * 2**20
REPEATS = 3
PROBE_VERSION = 1  # bump when the work changes: figures of two versions do not compare


@dataclass(frozen=True)
class ProbeFigures:
    """One probe: compute (GFLOP/s) and memory copy (GB/s) speed, and its own wall time."""

    gflops: float
    gbps: float
    seconds: float
    version: int = PROBE_VERSION

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, float]) -> ProbeFigures:
        try:
            return cls(float(data["gflops"]), float(data["gbps"]), float(data["seconds"]),
                       int(data.get("version", PROBE_VERSION)))  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"probe figures: {exc!r} in {dict(data)!r}") from None


def _median_time(work: Callable[[], object], timer: Callable[[], float], repeats: int) -> float:
    work()  # untimed: page faults on first touch, BLAS threads starting
    times = []
    for _ in range(repeats):
        start = timer()
        work()
        times.append(timer() - start)
    return statistics.median(times)


def _matmuls(threads: int) -> Callable[[], None]:
    """The compute work: ``threads`` threads, each ``MATMUL_CALLS`` small matmuls."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((MATMUL_N, MATMUL_N))
    b = rng.standard_normal((MATMUL_N, MATMUL_N))

    def one() -> None:
        out = np.empty_like(a)  # each thread its own output
        for _ in range(MATMUL_CALLS):
            np.matmul(a, b, out=out)

    def work() -> None:
        pool = [threading.Thread(target=one) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    return work


def run_probe(
    timer: Callable[[], float] = time.perf_counter,
    repeats: int = REPEATS,
    threads: int | None = None,
) -> ProbeFigures:
    """Time the fixed reference work once; ``timer`` is injectable for tests.

    ``threads`` defaults to the machine's core count (see the module doc).
    """
    began = time.perf_counter()
    threads = threads or os.cpu_count() or 1
    matmul_s = _median_time(_matmuls(threads), timer, repeats)
    src = np.ones(COPY_BYTES // 8)
    dst = np.empty_like(src)
    copy_s = _median_time(lambda: np.copyto(dst, src), timer, repeats)
    flops = 2.0 * MATMUL_N**3 * MATMUL_CALLS * threads
    return ProbeFigures(
        gflops=flops / matmul_s / 1e9,
        gbps=2.0 * COPY_BYTES / copy_s / 1e9,  # read + write
        seconds=time.perf_counter() - began,
    )


@dataclass(frozen=True)
class HostDrift:
    """How fast the host ran during one thing relative to a reference (1.0: the same)."""

    compute: float  # GFLOP/s during / reference
    memory: float  # GB/s during / reference

    @property
    def slowest(self) -> float:
        return min(self.compute, self.memory)


def drift(reference: ProbeFigures, during: ProbeFigures) -> HostDrift:
    """The host's speed during a run relative to ``reference``; probes must be the same work."""
    if reference.version != during.version:
        raise ValueError(
            f"probe versions differ ({reference.version} vs {during.version}): not comparable"
        )
    return HostDrift(during.gflops / reference.gflops, during.gbps / reference.gbps)


def bracket(before: ProbeFigures, after: ProbeFigures) -> ProbeFigures:
    """One figure for a point timed between two probes: the slower of the two, per figure.

    The slower one, because a slowdown during the point shows in at least one of them.
    """
    return ProbeFigures(
        min(before.gflops, after.gflops),
        min(before.gbps, after.gbps),
        before.seconds + after.seconds,
        before.version,
    )


def describe(change: HostDrift, name: str, tolerance: float = 0.05) -> str:
    """One sentence for a report: e.g. 'this host ran 18% slower during NEW (compute -18%, ...)'."""
    detail = f"compute {change.compute - 1:+.0%}, memory copy {change.memory - 1:+.0%}"
    worst = change.slowest
    if worst < 1 - tolerance:
        return f"this host ran {1 - worst:.0%} slower during {name} ({detail})"
    fastest = max(change.compute, change.memory)
    if fastest > 1 + tolerance:
        return f"this host ran {fastest - 1:.0%} faster during {name} ({detail})"
    return f"this host ran at the same speed during {name} ({detail})"


# ----------------------------------------------------------------------------- validation


def _probe_in(command_prefix: list[str]) -> ProbeFigures:
    """A probe in a fresh process started under ``command_prefix`` (e.g. taskset -c 0)."""
    out = subprocess.run(
        [*command_prefix, sys.executable, "-m", "kerasbench.probe", "--json", "--median-of", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return ProbeFigures.from_dict(json.loads(out.stdout.strip().splitlines()[-1]))


def median_probe(times: int) -> ProbeFigures:
    """The median figures of ``times`` probes in a row (for validation, not for each point)."""
    return _median_of([run_probe() for _ in range(times)])


def _loaded(cores: int) -> ProbeFigures:
    """Probe while one busy-loop process per core competes for the CPU."""
    spin = "import time\nend = time.time() + 60\nwhile time.time() < end: pass"
    spinners = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(cores)]
    try:
        time.sleep(0.5)  # let them start and take their cores
        return _probe_in([])
    finally:
        for proc in spinners:  # only the processes started here, by their handles
            proc.kill()
            proc.wait()


def _median_of(runs: list[ProbeFigures]) -> ProbeFigures:
    return ProbeFigures(
        statistics.median(r.gflops for r in runs),
        statistics.median(r.gbps for r in runs),
        statistics.median(r.seconds for r in runs),
    )


def validate(rounds: int = 3, log: Callable[[str], None] = print) -> dict[str, ProbeFigures]:
    """Show that the probe tracks slowdowns: all cores vs one (taskset), idle vs loaded.

    The conditions alternate within each of ``rounds`` rounds, so that the machine's
    own drift falls on all of them alike; each figure is the median over the rounds.
    """
    cores = os.cpu_count() or 1
    conditions: dict[str, Callable[[], ProbeFigures]] = {
        f"all {cores} cores": lambda: _probe_in([])
    }
    if shutil.which("taskset"):
        conditions["taskset -c 0 (one core)"] = lambda: _probe_in(["taskset", "-c", "0"])
    else:
        log("taskset not found: the one-core check is left out")
    conditions[f"loaded ({cores} busy-loop processes)"] = lambda: _loaded(cores)
    runs: dict[str, list[ProbeFigures]] = {name: [] for name in conditions}
    for _ in range(rounds):
        for name, run in conditions.items():
            runs[name].append(run())
    figures = {name: _median_of(found) for name, found in runs.items()}
    base = next(iter(figures.values()))
    log(f"median of {rounds} alternating rounds, each a probe of median-of-5 in a fresh process")
    log(f"{'condition':<36} {'GFLOP/s':>9} {'GB/s':>7} {'probe s':>8}  vs all cores")
    for name, fig in figures.items():
        change = drift(base, fig)
        log(
            f"{name:<36} {fig.gflops:>9.1f} {fig.gbps:>7.1f} {fig.seconds:>8.3f}  "
            f"compute {change.compute - 1:+.0%}, memory {change.memory - 1:+.0%}"
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kerasbench.probe", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--median-of", type=int, default=1, metavar="N", help="probes to run")
    parser.add_argument("--validate", action="store_true", help="one core / loaded vs idle")
    args = parser.parse_args(argv)
    if args.validate:
        validate()
        return 0
    if args.median_of < 1:
        parser.error(f"--median-of: expected 1 or more, got {args.median_of}")
    fig = median_probe(args.median_of)
    if args.json:
        print(json.dumps(fig.to_dict()))
    else:
        print(f"{fig.gflops:.1f} GFLOP/s, {fig.gbps:.1f} GB/s ({fig.seconds:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
