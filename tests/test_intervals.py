"""Intervals that mean what they say: the CI method per window count, and smoke points.

Below 6 windows no distribution-free 95% interval of a median exists; a record
then has no CI, tables say "(n windows)", and ``compare`` never calls it
significant. From 6 to 19 windows: order statistics; from 20: the bootstrap.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace

import pytest
from factories import make_result
from rich.console import Console

from kerasbench import stats
from kerasbench.report import formats, verdicts
from kerasbench.report.table import render_table
from kerasbench.report.view import cell_text, shown_ci


def _binomial_coverage(n: int, k: int) -> float:
    """Exact coverage of [x(k), x(n+1-k)] for the median of n continuous values."""
    return 1 - 2 * sum(math.comb(n, j) for j in range(k)) / 2**n


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_below_six_windows_there_is_no_interval(n: int) -> None:
    values = [1.0 + i / 10 for i in range(n)]
    assert stats.ci_method(n) == stats.CI_NONE
    assert stats.median_ci(values) is None
    window = stats.WindowStats.of(values)
    assert window.ci_low_s is None and window.ci_half_width_rel == math.inf
    # the widest interval, the range, covers less than 95%: 50% for 2 windows
    assert _binomial_coverage(n, 1) < 0.95


@pytest.mark.parametrize("n", [6, 7, 10, 13, 19])
def test_six_to_nineteen_windows_use_exact_order_statistics(n: int) -> None:
    values = [float(i) for i in range(1, n + 1)]
    assert stats.ci_method(n) == stats.CI_ORDER
    low, high = stats.median_ci(values)
    k = int(low)  # the values are their own ranks
    assert high == n + 1 - k  # symmetric ranks
    assert _binomial_coverage(n, k) >= 0.95 > _binomial_coverage(n, k + 1)
    if n == 6:
        assert (low, high) == (1.0, 6.0) and _binomial_coverage(6, 1) == pytest.approx(0.969, 1e-3)


def test_twenty_windows_and_more_use_the_bootstrap() -> None:
    values = [1.0 + (i % 7) / 100 for i in range(20)]
    assert stats.ci_method(20) == stats.CI_BOOTSTRAP
    assert stats.median_ci(values) == stats.bootstrap_median_ci(values)


def test_a_result_of_two_windows_has_no_ci_and_the_table_says_so() -> None:
    two = make_result(2.87, model="mnist_mlp", n=2)
    assert two.samples_per_sec_ci is None and two.n_windows == 2
    assert cell_text(two) == "2.87 (2 windows)"
    assert formats.speed_text(two) == "2.87 (2 windows)"
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(render_table([two]))
    text = console.export_text()
    assert "2.87 (2 windows)" in text and "no 95% CI" in text
    assert "no 95% CI" in formats.markdown([two])
    eight = make_result(2.87, n=8, sd=0.01)
    assert eight.samples_per_sec_ci is not None and "±" in cell_text(eight)


def test_old_records_with_a_two_window_ci_do_not_show_it() -> None:
    # Stored before intervals depended on the window count: the "CI" is the range.
    two = replace(make_result(2.87, n=2), samples_per_sec_ci=(2.5, 3.2))
    assert shown_ci(two) is None and cell_text(two) == "2.87 (2 windows)"


def test_pooled_repeats_need_six_windows_in_all() -> None:
    few = stats.PooledStats.of([[1.0, 1.1], [1.05, 1.0]])
    assert few.ci_low_s is None and few.n_windows == 4
    enough = stats.PooledStats.of([[1.0, 1.1, 1.02], [1.05, 1.0, 1.01]])
    assert enough.ci_low_s is not None and enough.ci_low_s <= enough.median_s <= enough.ci_high_s


@pytest.mark.parametrize("n", [2, 5])
def test_compare_calls_a_smoke_point_smoke_never_a_regression(n: int) -> None:
    base = [make_result(step_s=0.010, n=n, sd=0.001, seed=1)]
    slow = [make_result(step_s=0.020, n=n, sd=0.001, seed=2)]  # half the speed
    result = verdicts.compare(base, slow)
    (point,) = result.points
    assert point.verdict == verdicts.SMOKE and result.exit_code == 0
    assert point.ratio == pytest.approx(0.5, rel=0.01)
    assert point.p_value is None and point.ratio_ci is None
    assert f"{n} timed windows" in point.reason
    text = "\n".join(verdicts.format_lines(result))
    assert "smoke" in text and "[no CI]" in text and "1 smoke point(s)" in text


def test_compare_tests_from_six_windows() -> None:
    base = [make_result(step_s=0.010, n=6, sd=0.001, seed=1)]
    slow = [make_result(step_s=0.020, n=6, sd=0.001, seed=2)]
    (point,) = verdicts.compare(base, slow).points
    assert point.verdict == verdicts.REGRESSION and point.p_value < 0.05


def test_a_target_ci_stop_needs_six_windows_and_the_minimum_timed_seconds() -> None:
    rule = stats.StopRule(fixed_windows=4, target_ci=0.05, min_windows=2)
    quiet = [1.0, 1.001, 0.999, 1.0, 1.0005, 0.9995]
    assert rule.decide(quiet[:5], 10.0) is None  # no interval from 5 windows
    assert rule.decide(quiet, stats.MIN_TIMED_S / 2) is None  # a lucky half second
    assert rule.decide(quiet, stats.MIN_TIMED_S) == stats.STOP_TARGET_CI
