"""The load generator's parts: seeded Poisson arrival schedules and the clocks scenarios run on.

Scenarios never read time directly; they take a ``Clock``. ``RealClock`` is the
monotonic performance counter with sleeping; ``FakeClock`` is simulated time,
advanced only by ``sleep_until`` and by the code under test (a stub model
``advance``-s it by its service time), so tests of queueing behaviour do not
depend on this machine's speed.
"""

from __future__ import annotations

import math
import random
import time
from typing import Protocol


class Clock(Protocol):
    """What a scenario needs of time: read it, and wait until a moment."""

    def now(self) -> float: ...

    def sleep_until(self, t: float) -> None: ...


class RealClock:
    """Wall time from ``time.perf_counter``; waits sleep, then spin the last stretch.

    The OS wakes a sleeper late by up to a scheduler tick, which would show up as
    queueing that is not the model's; so the last ``spin_s`` before a deadline is a
    busy wait. On 2 shared cores the spin costs little because it is short.
    """

    def __init__(self, spin_s: float = 0.0005) -> None:
        self.spin_s = spin_s

    def now(self) -> float:
        return time.perf_counter()

    def sleep_until(self, t: float) -> None:
        remaining = t - time.perf_counter()
        if remaining > self.spin_s:
            time.sleep(remaining - self.spin_s)
        while time.perf_counter() < t:
            pass


class FakeClock:
    """Simulated time for tests: only ``sleep_until`` and ``advance`` move it."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def sleep_until(self, t: float) -> None:
        self.t = max(self.t, t)

    def advance(self, dt: float) -> None:
        if dt < 0:
            raise ValueError(f"FakeClock.advance: negative step {dt}")
        self.t += dt


def poisson_arrivals(rate: float, n: int, seed: int = 0) -> list[float]:
    """Arrival offsets (seconds from 0) of ``n`` requests of a Poisson process at ``rate``/s.

    Inter-arrival times are exponential with mean 1/rate, drawn from a
    ``random.Random(seed)``, so one seed always gives the same schedule (as
    MLPerf LoadGen's seeded schedule does). The first request arrives after one
    inter-arrival time, not at 0.
    """
    if not rate > 0 or math.isinf(rate):
        raise ValueError(f"poisson_arrivals: rate must be a positive finite number, got {rate}")
    if n < 1:
        raise ValueError(f"poisson_arrivals: n must be at least 1, got {n}")
    rng = random.Random(seed)
    t = 0.0
    out = []
    for _ in range(n):
        t += rng.expovariate(rate)
        out.append(t)
    return out


def requests_for(rate: float, duration_s: float, min_requests: int) -> int:
    """Requests a server run at ``rate`` schedules: ``duration_s`` worth, at least the minimum."""
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    return max(min_requests, int(math.ceil(rate * duration_s)))
