"""The load generator's floor: the no-op model's figures and the flags they raise."""

from __future__ import annotations

from kerasbench.serving.floor import floor_flags, measure_floor, noop_predict
from kerasbench.serving.loadgen import FakeClock, RealClock

FLOOR = {"latency_p50_ms": 0.001, "max_qps": 100_000.0}


def test_floor_on_this_machine_is_small_and_ordered() -> None:
    # Real time, small runs; only generous bounds (2 shared cores may be busy).
    f = measure_floor(RealClock(), n_latency=300, n_saturate=2000, probe_qps=200, probe_s=0.5)
    assert 0 <= f["latency_p50_ms"] <= f["latency_p99_ms"] < 50
    assert f["max_qps"] > 1000
    assert f["wake_delay_p50_ms"] >= 0 and f["probe_achieved_qps"] > 0


def test_floor_in_simulated_time_is_zero_latency() -> None:
    f = measure_floor(FakeClock(), n_latency=50, n_saturate=100, probe_qps=100, probe_s=1)
    assert f["latency_p50_ms"] == 0.0 and f["wake_delay_max_ms"] == 0.0
    assert f["probe_p99_ms"] == 0.0


def test_noop_returns_its_input() -> None:
    x = object()
    assert noop_predict(x) is x


def test_flags_a_rate_near_the_ceiling_and_a_latency_near_the_floor() -> None:
    assert floor_flags({"target_qps": 1000.0, "p50_ms": 5.0}, FLOOR) == []
    (rate_flag,) = floor_flags({"target_qps": 60_000.0, "p50_ms": 5.0}, FLOOR)
    assert "near the generator's ceiling" in rate_flag and "100000/s" in rate_flag
    (lat_flag,) = floor_flags({"p50_ms": 0.005}, FLOOR)
    assert "harness floor" in lat_flag
