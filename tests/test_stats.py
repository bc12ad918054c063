"""Statistics over windows and the Result fields derived from them."""

from __future__ import annotations

import random

import pytest

from kerasbench.result import Result
from kerasbench.spec import Spec
from kerasbench.stats import WindowStats, bootstrap_median_ci, coefficient_of_variation


def test_bootstrap_ci_covers_the_median_and_narrows_with_more_windows() -> None:
    rng = random.Random(1)
    few = [rng.gauss(10, 1) for _ in range(10)]
    many = [rng.gauss(10, 1) for _ in range(400)]
    low, high = bootstrap_median_ci(few)
    assert low <= sorted(few)[5] <= high
    low_m, high_m = bootstrap_median_ci(many)
    assert low_m < 10 < high_m
    assert high_m - low_m < high - low


def test_bootstrap_is_deterministic_and_handles_one_value() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 100.0]
    assert bootstrap_median_ci(values) == bootstrap_median_ci(values)
    assert bootstrap_median_ci([2.5]) == (2.5, 2.5)
    with pytest.raises(ValueError):
        bootstrap_median_ci([])


def test_constant_windows_have_zero_spread() -> None:
    stats = WindowStats.of([0.1] * 8)
    assert stats.median_s == 0.1 and stats.cv == 0.0
    assert stats.ci_low_s == stats.ci_high_s == 0.1
    assert coefficient_of_variation([1.0, 3.0]) == pytest.approx(2**0.5 / 2)


def test_result_from_worker_derives_throughput_from_windows() -> None:
    spec = Spec(model="mnist_mlp", backend="jax", batch_size=100, steps=8, window_steps=2)
    spec = spec.resolved()
    raw = {
        "status": "ok",
        "window_times_s": [0.2, 0.2, 0.2, 0.2],  # 2 steps each -> 0.1 s per step
        "time_to_first_step_s": 3.0,
        "first_step_s": 2.1,
        "keras_version": "3",
    }
    r = Result.from_worker(spec, raw)
    assert r.step_time_ms == pytest.approx(100.0)
    assert r.samples_per_sec == pytest.approx(1000.0)
    assert r.steps_measured == 8 and r.n_windows == 4
    assert r.compile_time_s == pytest.approx(2.0)
    assert r.samples_per_sec_ci == pytest.approx((1000.0, 1000.0))


def test_ok_without_windows_is_a_failure() -> None:
    spec = Spec(model="mnist_mlp", backend="jax").resolved()
    r = Result.from_worker(spec, {"status": "ok", "window_times_s": []})
    assert r.status == "failed" and "no timed windows" in r.error


def test_window_edges_and_windows_from_clock_readings() -> None:
    from kerasbench.worker.measure import timing_from_clock, total_steps, window_edges

    spec = Spec(model="mnist_mlp", backend="jax", steps=4, warmup=1, window_steps=2).resolved()
    assert window_edges(spec) == [0, 1, 3, 5]
    assert total_steps(spec) == 6
    times = {0: 10.0, 1: 11.0, 3: 14.0, 5: 15.0}
    timing = timing_from_clock(times, spec, build_started=5.0, loop_started=8.0)
    assert timing.window_times_s == [3.0, 1.0]
    assert timing.time_to_first_step_s == 5.0 and timing.first_step_s == 2.0
    with pytest.raises(RuntimeError, match="batch 5 missing"):
        timing_from_clock({0: 1.0, 1: 2.0, 3: 3.0}, spec, 0.0, 0.0)


def test_step_loop_times_windows_after_first_step_and_warmup(monkeypatch) -> None:
    from kerasbench.worker import measure

    clock = iter(float(t) for t in range(100))
    monkeypatch.setattr(measure.time, "perf_counter", lambda: next(clock))
    steps: list[int] = []
    spec = Spec(model="mnist_mlp", backend="jax", steps=6, warmup=2, window_steps=3).resolved()
    timing = measure.time_step_loop(steps.append, spec, build_started=-5.0)
    assert steps == list(range(9))  # first + 2 warm-up + 2 windows of 3
    # readings: 0 before the first step, 1 after it, then 2/3 and 4/5 around each window
    assert timing.first_step_s == 1.0 and timing.time_to_first_step_s == 6.0
    assert timing.window_times_s == [1.0, 1.0]
