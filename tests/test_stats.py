"""Statistics over windows (known distributions, no framework) and the Result fields derived."""

from __future__ import annotations

import random
import statistics
from pathlib import Path

import pytest

from kerasbench import stats
from kerasbench.envinfo import CpuTimes, cpu_times, steal_fraction
from kerasbench.result import Result
from kerasbench.spec import Spec
from kerasbench.stats import (
    WindowStats,
    bootstrap_median_ci,
    coefficient_of_variation,
    grouped_ratio_test,
)


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
    # 4 windows: too few for a 95% interval of the median (tests/test_intervals.py)
    assert r.samples_per_sec_ci is None and r.step_time_ci_ms is None


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


def normal_windows(n: int, mean: float, sd: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, sd) for _ in range(n)]


def test_bootstrap_ci_covers_the_true_median_about_95_percent() -> None:
    # 200 independent samples of 30 windows from N(10, 1): the true median is 10.
    covered = sum(
        low <= 10.0 <= high
        for low, high in (
            stats.bootstrap_median_ci(normal_windows(30, 10.0, 1.0, seed), resamples=400)
            for seed in range(200)
        )
    )
    assert 0.88 <= covered / 200 <= 0.995


def test_order_statistic_ci_covers_the_true_median_about_95_percent() -> None:
    covered = sum(
        low <= 10.0 <= high
        for low, high in (
            stats.order_statistic_median_ci(normal_windows(40, 10.0, 1.0, seed))
            for seed in range(400)
        )
    )
    assert 0.92 <= covered / 400 <= 0.99


def test_stop_rule_fixed_count() -> None:
    rule = stats.StopRule(fixed_windows=4)
    assert rule.decide([1.0] * 3, 100.0) is None
    assert rule.decide([1.0] * 4, 0.0) == "steps"


def test_stop_rule_target_ci_reached_with_quiet_windows() -> None:
    rule = stats.StopRule(fixed_windows=4, target_ci=0.02, max_time=60, min_windows=5)
    quiet = normal_windows(6, 1.0, 0.001, 1)
    assert rule.decide(quiet[:4], 6.0) is None  # below min_windows
    assert rule.decide(quiet[:5], 6.0) is None  # no 95% interval from 5 windows
    assert rule.decide(quiet, 1.0) is None  # below the minimum timed duration
    assert rule.decide(quiet, 6.0) == "target_ci"


def test_stop_rule_noisy_windows_run_to_the_time_limit() -> None:
    rule = stats.StopRule(fixed_windows=4, target_ci=0.02, max_time=10, min_windows=5)
    noisy = normal_windows(20, 1.0, 0.5, 2)
    assert rule.decide(noisy, 5.0) is None
    assert rule.decide(noisy, 10.0) == "max_time"


def test_stop_rule_safety_cap() -> None:
    rule = stats.StopRule(fixed_windows=4, target_ci=0.001, min_windows=2, max_windows=6)
    assert rule.decide(normal_windows(6, 1.0, 0.3, 3), 0.0) == "max_windows"


def test_steady_state_flat_noise_is_settled() -> None:
    windows = normal_windows(30, 1.0, 0.02, 4)
    steady = stats.SteadyState.of(windows)
    assert steady.settled is True
    assert abs(steady.drift) < 0.05


def test_steady_state_steady_climb_never_settles() -> None:
    # Each window 1% slower than the last (thermal throttling, a leak): drift ~15%
    # over the last 15 windows.
    windows = [1.0 * 1.01**i for i in range(30)]
    steady = stats.SteadyState.of(windows)
    assert steady.settled is False
    assert steady.drift > 0.1
    assert steady.trend_p < 0.01


def test_steady_state_slow_first_window_is_reported_not_flagged() -> None:
    windows = [3.0] + normal_windows(19, 1.0, 0.01, 5)
    steady = stats.SteadyState.of(windows)
    assert steady.first_window_ratio == pytest.approx(3.0, rel=0.05)
    assert steady.settled is True


def test_steady_state_needs_eight_windows() -> None:
    assert stats.SteadyState.of([1.0, 2.0, 3.0]).settled is None


def test_mann_kendall_and_theil_sen() -> None:
    assert stats.mann_kendall_p(list(range(20))) < 1e-6
    assert stats.mann_kendall_p([1.0] * 10) == 1.0
    assert stats.theil_sen_slope([2 * i + 1 for i in range(10)]) == pytest.approx(2.0)


def test_trend_tests_equal_their_pairwise_definitions() -> None:
    values = [v + 0.002 * i for i, v in enumerate(normal_windows(40, 1.0, 0.05, 9))]
    values[7] = values[8]  # a tie, for the variance's tie term
    pairs = [(i, j) for i in range(len(values)) for j in range(i + 1, len(values))]
    s = sum((values[j] > values[i]) - (values[j] < values[i]) for i, j in pairs)
    n, t = len(values), 2
    var = (n * (n - 1) * (2 * n + 5) - t * (t - 1) * (2 * t + 5)) / 18
    p = 2 * (1 - statistics.NormalDist().cdf((abs(s) - 1) / var**0.5))
    assert stats.mann_kendall_p(values) == pytest.approx(p)
    slope = statistics.median((values[j] - values[i]) / (j - i) for i, j in pairs)
    assert stats.theil_sen_slope(values) == pytest.approx(slope)


def test_a_long_latency_series_is_tested_for_trend_in_groups() -> None:
    # A latency point times one request per window: 50,000 of them. Its last half
    # is tested as 1,000 group medians, and a 10% climb over it is still seen.
    flat = normal_windows(50_000, 1e-4, 2e-6, 3)
    assert stats.SteadyState.of(flat).settled is True
    climbing = [v * (1 + 0.2 * i / len(flat)) for i, v in enumerate(flat)]
    steady = stats.SteadyState.of(climbing)
    assert steady.settled is False and steady.drift == pytest.approx(0.1, rel=0.15)


scipy_stats = pytest.importorskip("scipy.stats", reason="scipy cross-checks the U test")


@pytest.mark.parametrize(
    ("m", "n", "shift", "seed"), [(5, 7, 0.0, 0), (10, 10, 1.0, 1), (20, 30, 0.3, 2)]
)
def test_mann_whitney_exact_matches_scipy(m: int, n: int, shift: float, seed: int) -> None:
    a, b = normal_windows(m, 0.0, 1.0, seed), normal_windows(n, shift, 1.0, seed + 100)
    u, p = stats.mann_whitney_u(a, b)
    ref = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="exact")
    assert u == ref.statistic
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_mann_whitney_ties_match_scipy_asymptotic() -> None:
    a = [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0, 5.0, 6.0]
    b = [3.0, 4.0, 4.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 9.0, 9.0]
    u, p = stats.mann_whitney_u(a, b)
    ref = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    assert u == ref.statistic
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_mann_whitney_large_samples_use_the_normal_approximation() -> None:
    a, b = normal_windows(60, 0.0, 1.0, 7), normal_windows(70, 0.2, 1.0, 8)
    u, p = stats.mann_whitney_u(a, b)
    ref = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_mann_whitney_false_positive_rate_is_about_alpha() -> None:
    rejections = sum(
        stats.mann_whitney_u(normal_windows(15, 1, 1, s), normal_windows(15, 1, 1, s + 999))[1]
        < 0.05
        for s in range(300)
    )
    assert rejections / 300 <= 0.09


def test_throughput_ratio_ci() -> None:
    base = normal_windows(30, 1.0, 0.01, 9)
    slower = [t * 1.25 for t in normal_windows(30, 1.0, 0.01, 10)]
    ratio, low, high = stats.throughput_ratio_ci(base, slower)
    assert ratio == pytest.approx(0.8, rel=0.01)
    assert low < ratio < high and high < 0.82 and low > 0.78


def test_pooled_stats_separate_between_and_within_process_spread() -> None:
    # Three processes whose medians differ by 10% with quiet windows inside each.
    groups = [normal_windows(20, mean, 0.005, i) for i, mean in enumerate((1.0, 1.1, 0.9))]
    pooled = stats.PooledStats.of(groups)
    assert pooled.n_processes == 3 and pooled.n_windows == 60
    assert pooled.between_cv == pytest.approx(0.1, rel=0.1)
    assert pooled.within_cv < 0.01
    # Two-level bootstrap: the CI reflects the process spread, wider than windows alone.
    single = stats.bootstrap_median_ci([v for g in groups for v in g])
    assert pooled.ci_high_s - pooled.ci_low_s > single[1] - single[0]
    assert pooled.median_s == pytest.approx(statistics.median([v for g in groups for v in g]))


def test_grouped_ratio_test_sees_spread_between_processes() -> None:
    rng = random.Random(5)

    def process(level: float) -> list[float]:
        return [rng.gauss(level, 0.005 * level) for _ in range(20)]

    same = [process(1.0), process(1.0), process(1.0)]
    ratio, low, high, p = grouped_ratio_test(same, [process(1.0) for _ in range(3)])
    assert low < ratio < high and low < 1 < high and p > 0.05
    # Every NEW process 20% slower: significant, and the CI holds the true 1/1.2.
    ratio, low, high, p = grouped_ratio_test(same, [process(1.2) for _ in range(3)])
    assert ratio == pytest.approx(1 / 1.2, rel=0.01) and low < 1 / 1.2 < high < 1
    assert p < 0.01
    # Processes that disagree by +-8% widen the CI well past the windows' 0.5%.
    spread = [process(0.92), process(1.0), process(1.08)]
    _, low, high, p = grouped_ratio_test(spread, [process(0.92), process(1.0), process(1.08)])
    assert high - low > 0.08 and p > 0.05
    with pytest.raises(ValueError):
        grouped_ratio_test([], same)


def test_steal_fraction_from_cpu_times() -> None:
    before, after = CpuTimes(steal=100, total=10_000), CpuTimes(steal=260, total=11_000)
    assert steal_fraction(before, after) == pytest.approx(0.16)
    assert steal_fraction(None, after) is None and steal_fraction(after, after) is None
    now = cpu_times()
    if Path("/proc/stat").exists():
        assert now is not None and 0 <= now.steal <= now.total
    else:
        assert now is None
