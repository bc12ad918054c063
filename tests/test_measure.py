"""The timing loop with a fake clock: fixed counts, target CI, time limit (no framework)."""

from __future__ import annotations

import random

from kerasbench.spec import Spec
from kerasbench.stats import MIN_TIMED_S
from kerasbench.worker import measure


class FakeClock:
    """A clock that advances only when a step runs, by a drawn step time."""

    def __init__(self, step_time: float, sd: float, seed: int = 0) -> None:
        self.now = 0.0
        self.rng = random.Random(seed)
        self.step_time, self.sd = step_time, sd
        self.steps = 0

    def __call__(self) -> float:
        return self.now

    def step(self, i: int) -> None:
        self.steps += 1
        self.now += max(1e-6, self.rng.gauss(self.step_time, self.sd))


def spec(**kw: object) -> Spec:
    return Spec(model="mnist_mlp", backend="jax", **kw).resolved()


def test_fixed_steps() -> None:
    clock = FakeClock(0.01, 0.0)
    timing = measure.time_step_loop(
        clock.step, spec(steps=20, window_steps=4, warmup=3), 0.0, clock
    )
    assert timing.stop_reason == "steps"
    assert len(timing.window_times_s) == 5
    assert clock.steps == 1 + 3 + 20
    assert all(abs(w - 0.04) < 1e-9 for w in timing.window_times_s)


def test_target_ci_stops_early_on_quiet_steps() -> None:
    clock = FakeClock(0.5, 0.0001)  # 1 s windows: the minimum timed duration is 2 windows
    s = spec(steps=20, window_steps=2, target_ci=0.02, max_time=60, min_windows=6)
    timing = measure.time_step_loop(clock.step, s, 0.0, clock)
    assert timing.stop_reason == "target_ci"
    assert len(timing.window_times_s) == 6


def test_target_ci_waits_for_the_minimum_timed_duration() -> None:
    # Quiet 0.02 s windows would meet the CI after min_windows=6 (0.12 s); the rule
    # holds the stop until 2 s of timed windows have run.
    clock = FakeClock(0.01, 0.0001)
    s = spec(steps=20, window_steps=2, target_ci=0.02, max_time=60, min_windows=6)
    timing = measure.time_step_loop(clock.step, s, 0.0, clock)
    assert timing.stop_reason == "target_ci"
    timed = sum(timing.window_times_s)
    assert measure.min_timed_s(s) == MIN_TIMED_S == 2.0
    assert 2.0 <= timed < 2.0 + timing.window_times_s[-1] + 1e-9  # stopped at the first chance
    assert measure.stop_settings(s) == {"min_timed_s": 2.0}


def test_minimum_timed_duration_is_capped_by_max_time() -> None:
    s = spec(steps=20, window_steps=2, target_ci=0.02, max_time=0.5, min_windows=3)
    assert measure.min_timed_s(s) == 0.5
    clock = FakeClock(0.01, 0.0001)
    timing = measure.time_step_loop(clock.step, s, 0.0, clock)
    assert timing.stop_reason == "target_ci" and 0.5 <= sum(timing.window_times_s) < 0.53
    assert measure.stop_settings(spec(steps=20)) == {}  # fixed counts record nothing


def test_noisy_steps_run_until_max_time() -> None:
    clock = FakeClock(0.01, 0.01, seed=3)
    s = spec(steps=20, window_steps=2, target_ci=0.001, max_time=1.0)
    timing = measure.time_step_loop(clock.step, s, 0.0, clock)
    assert timing.stop_reason == "max_time"
    assert 0.98 <= sum(timing.window_times_s) <= 1.1


def test_more_noise_needs_more_windows() -> None:
    def windows(sd: float) -> int:  # 0.2 s windows: the 2 s minimum is 10 of them
        clock = FakeClock(0.1, 10 * sd, seed=5)
        s = spec(steps=20, window_steps=2, target_ci=0.02, max_time=10_000)
        return len(measure.time_step_loop(clock.step, s, 0.0, clock).window_times_s)

    assert windows(0.0005) < windows(0.002) < windows(0.004)
