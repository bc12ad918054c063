"""Serving scenarios on a stub model in simulated time: latency, server, batching, find-peak."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kerasbench.serving.loadgen import FakeClock, poisson_arrivals
from kerasbench.serving.percentiles import latency_percentiles
from kerasbench.serving.scenarios import find_peak, latency, server

S = 0.010  # the stub's deterministic service time (seconds)


def stub(clock: FakeClock, per_call: float = S, per_sample: float = 0.0):
    """A model whose call takes ``per_call + per_sample * len(batch)`` simulated seconds."""

    def predict(batch):
        clock.advance(per_call + per_sample * len(batch))
        return batch

    return predict


def make_batch(n: int) -> np.ndarray:
    return np.zeros((n, 2), dtype=np.float32)


# --- the Poisson generator ------------------------------------------------------


def test_poisson_inter_arrivals_are_exponential_at_the_rate() -> None:
    rate, n = 250.0, 20000
    t = poisson_arrivals(rate, n, seed=3)
    gaps = np.diff([0.0, *t])
    # Mean inter-arrival within its 99.9% normal interval (an exponential's sd equals its mean).
    assert abs(gaps.mean() - 1 / rate) < 3.3 * (1 / rate) / math.sqrt(n)
    # Kolmogorov-Smirnov distance to Exp(rate) under the 1% critical value 1.63/sqrt(n).
    x = np.sort(gaps)
    cdf = 1 - np.exp(-rate * x)
    i = np.arange(1, n + 1)
    d = max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n))
    assert d < 1.63 / math.sqrt(n), d
    # Counts per unit window are Poisson: variance equals mean (index of dispersion ~1).
    counts = np.bincount(np.floor(np.asarray(t) * 10).astype(int))[:-1]
    assert 0.9 < counts.var() / counts.mean() < 1.1


def test_poisson_schedule_is_seeded_and_scales_with_rate() -> None:
    a = poisson_arrivals(10.0, 50, seed=1)
    assert a == poisson_arrivals(10.0, 50, seed=1)
    assert a != poisson_arrivals(10.0, 50, seed=2)
    # The same seed at twice the rate is the same schedule at half the times.
    assert np.allclose(poisson_arrivals(20.0, 50, seed=1), np.asarray(a) / 2)


@pytest.mark.parametrize("rate,n", [(0.0, 5), (-1.0, 5), (math.inf, 5), (1.0, 0)])
def test_poisson_rejects_bad_settings(rate: float, n: int) -> None:
    with pytest.raises(ValueError, match="poisson_arrivals"):
        poisson_arrivals(rate, n)


# --- percentiles -----------------------------------------------------------------


def test_nearest_rank_percentiles_and_their_intervals() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    p = latency_percentiles(values, resamples=200)
    assert (p["p50"].value_s, p["p90"].value_s, p["p99"].value_s, p["max"].value_s) == (
        50.0,
        90.0,
        99.0,
        100.0,
    )
    for q in p.values():
        assert q.ci_low_s <= q.value_s <= q.ci_high_s
    assert p["max"].ci_high_s == 100.0
    assert latency_percentiles(values, resamples=200) == p  # seeded


# --- latency (single stream) ------------------------------------------------------


def test_latency_times_each_request_and_meets_the_minimum() -> None:
    clock = FakeClock()
    r = latency(stub(clock), make_batch(1), clock, min_requests=300, min_time_s=0.5, resamples=50)
    assert r["n_requests"] == 300 and r["reached_min_requests"]
    for name in ("p50", "p90", "p99", "max"):
        assert r[f"{name}_ms"] == pytest.approx(S * 1e3)
        assert r[f"{name}_ci_low_ms"] <= r[f"{name}_ms"] <= r[f"{name}_ci_high_ms"]


def test_latency_stops_at_the_time_cap_and_says_so() -> None:
    clock = FakeClock()
    r = latency(stub(clock), make_batch(1), clock, min_requests=1000, max_time_s=1.0, resamples=20)
    assert r["n_requests"] == 100 and not r["reached_min_requests"]


# --- server ----------------------------------------------------------------------------


def test_server_at_low_load_serves_everything_near_the_service_time() -> None:
    clock = FakeClock()
    r = server(stub(clock), make_batch, qps=5.0, clock=clock, duration_s=200, resamples=50)
    assert r["n_dropped"] == 0 and r["n_completed"] == r["n_scheduled"] == 1000
    assert r["p50_ms"] == pytest.approx(S * 1e3)  # rho = 0.05: most requests find it idle
    assert r["achieved_qps"] == pytest.approx(r["offered_qps"], rel=0.01)
    assert r["wake_delay_max_ms"] == 0.0  # simulated time wakes exactly


def test_server_latency_counts_queueing() -> None:
    # rho = 0.8: M/D/1 mean sojourn is S + rho*S/(2(1-rho)) = 3S.
    clock = FakeClock()
    r = server(stub(clock), make_batch, qps=80.0, clock=clock, duration_s=500, resamples=20)
    assert r["n_dropped"] == 0
    assert r["p50_ms"] > 1.2 * S * 1e3 and r["p99_ms"] > 5 * S * 1e3


def test_server_overloaded_drops_what_it_cannot_start_and_counts_late() -> None:
    clock = FakeClock()
    r = server(
        stub(clock),
        make_batch,
        qps=200.0,  # twice the capacity
        clock=clock,
        duration_s=10,
        max_time_s=10,
        latency_bound_ms=50,
        resamples=20,
    )
    assert r["n_dropped"] > 0 and r["n_completed"] + r["n_dropped"] == r["n_scheduled"]
    assert r["achieved_qps"] == pytest.approx(100.0, rel=0.02)
    assert r["n_late"] > 0.5 * r["n_completed"]


def test_dynamic_batching_fills_batches_under_load() -> None:
    clock = FakeClock()
    # One call costs 5 ms + 1 ms per sample: unbatched capacity 167/s, batched up to 8: 615/s.
    predict = stub(clock, per_call=0.005, per_sample=0.001)
    kw = dict(clock=clock, duration_s=20, max_time_s=25, resamples=20)
    plain = server(predict, make_batch, qps=300.0, **kw)
    batched = server(predict, make_batch, qps=300.0, max_batch=8, batch_timeout_ms=2, **kw)
    assert plain["n_dropped"] > 0
    assert batched["n_dropped"] == 0 and 1 < batched["mean_batch"] <= 8
    assert batched["p99_ms"] < 100


def test_batch_timeout_makes_a_lone_request_wait() -> None:
    # Arrivals far apart: every request but the last waits the whole timeout alone.
    clock = FakeClock()
    r = server(
        stub(clock), make_batch, qps=1.0, clock=clock, duration_s=100,
        max_batch=4, batch_timeout_ms=7, resamples=20,
    )  # fmt: skip
    assert r["mean_batch"] == pytest.approx(1.0, abs=0.02)
    assert r["p50_ms"] == pytest.approx(S * 1e3 + 7)


def test_server_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="server: bad settings"):
        server(lambda b: b, make_batch, qps=0.0, clock=FakeClock())


# --- find_peak against M/D/1 ------------------------------------------------------------


def md1_waiting_cdf(t: float, lam: float, s: float) -> float:
    """P(W <= t) in the M/D/1 queue (Erlang's formula): service time ``s``, arrival rate ``lam``."""
    return (1 - lam * s) * sum(
        (lam * (k * s - t)) ** k / math.factorial(k) * math.exp(-lam * (k * s - t))
        for k in range(int(math.floor(t / s)) + 1)
    )


def md1_peak(bound: float, s: float, q: float = 0.99) -> float:
    """The arrival rate at which the q-quantile of M/D/1 sojourn time (W + s) equals ``bound``."""
    lo, hi = 1e-9, (1 - 1e-9) / s
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if md1_waiting_cdf(bound - s, mid, s) >= q else (lo, mid)
    return lo


def test_md1_formula_matches_known_values() -> None:
    # P(W = 0) = 1 - rho, and the mean-value check of the formula at a point tabulated by Erlang.
    assert md1_waiting_cdf(0.0, 50.0, S) == pytest.approx(0.5)
    assert md1_waiting_cdf(S, 50.0, S) == pytest.approx(0.5 * math.exp(0.5))


@pytest.mark.parametrize("bound_ms", [30.0, 50.0])
def test_find_peak_lands_on_the_md1_answer(bound_ms: float) -> None:
    clock = FakeClock()
    predict = stub(clock)

    def run_at(qps: float) -> dict:
        return server(predict, make_batch, qps, clock=clock, duration_s=1, min_requests=20000,
                      seed=7, resamples=10)  # fmt: skip

    r = find_peak(run_at, p99_bound_ms=bound_ms, start_qps=10.0, clock=clock, budget_s=1e9)
    expected = md1_peak(bound_ms / 1e3, S)
    assert r["converged"]
    assert r["peak_qps"] == pytest.approx(expected, rel=0.10), (r["peak_qps"], expected)
    assert r["at_peak"]["p99_ms"] <= bound_ms


def test_find_peak_when_the_bound_is_below_the_service_time() -> None:
    clock = FakeClock()
    predict = stub(clock)
    r = find_peak(
        lambda q: server(predict, make_batch, q, clock=clock, duration_s=5, resamples=10),
        p99_bound_ms=5.0,
        start_qps=10.0,
        clock=clock,
    )
    assert r["peak_qps"] is None and not r["converged"] and r["at_peak"] is None


def test_find_peak_stops_at_its_budget() -> None:
    clock = FakeClock()
    predict = stub(clock)
    r = find_peak(
        lambda q: server(predict, make_batch, q, clock=clock, duration_s=30, resamples=10),
        p99_bound_ms=50.0,
        start_qps=1.0,
        clock=clock,
        budget_s=60.0,
    )
    assert r["n_trials"] <= 3 and not r["converged"]
