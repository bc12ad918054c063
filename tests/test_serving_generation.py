"""Generation latency of causal LMs (issue 17): the scenario in simulated time, the rules
that keep LMs to what it measures, and the TTFT/TPOT columns of the latency table."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import needs_backend, run_worker
from factories import make_result, make_spec

from kerasbench import feasibility
from kerasbench.feasibility import Host, check
from kerasbench.report.latency import latency_html, latency_markdown, latency_rows, latency_table
from kerasbench.serving.generation import generation_latency
from kerasbench.serving.loadgen import FakeClock

PREFILL, STEP = 0.020, 0.002  # the stub sampler: prefill, then each cached step (seconds)


def stub_sampler(clock: FakeClock, slow_every: int = 0):
    """first/full calls of a sampler taking PREFILL + STEP per token; every
    ``slow_every``-th prompt's prefill takes twice as long (a tail to find)."""

    def cost(i: int, tokens: int) -> float:
        prefill = PREFILL * (2 if slow_every and i % slow_every == slow_every - 1 else 1)
        return prefill + STEP * tokens

    def first(i: int) -> None:
        clock.advance(cost(i, 1))

    def full(i: int) -> None:
        clock.advance(cost(i, 9))

    return first, full


def test_ttft_tpot_and_request_latency_of_a_known_sampler() -> None:
    clock = FakeClock()
    first, full = stub_sampler(clock)
    r = generation_latency(first, full, 9, clock, min_requests=40, min_time_s=0, resamples=200)
    assert r["n_requests"] == 40 and r["reached_min_requests"]
    assert r["ttft_p50_ms"] == pytest.approx((PREFILL + STEP) * 1e3)
    assert r["tpot_p99_ms"] == pytest.approx(STEP * 1e3)
    assert r["p90_ms"] == pytest.approx((PREFILL + 9 * STEP) * 1e3)
    assert len(r["ttft_s"]) == len(r["tpot_s"]) == len(r["latencies_s"]) == 40


def test_slow_prefills_show_in_the_ttft_tail_not_in_tpot() -> None:
    clock = FakeClock()
    first, full = stub_sampler(clock, slow_every=10)  # 10% of prompts
    r = generation_latency(first, full, 9, clock, min_requests=100, min_time_s=0, resamples=200)
    assert r["ttft_p50_ms"] == pytest.approx((PREFILL + STEP) * 1e3)
    assert r["ttft_p99_ms"] == pytest.approx((2 * PREFILL + STEP) * 1e3)
    assert r["tpot_p99_ms"] == pytest.approx(STEP * 1e3)
    low, high = r["ttft_p50_ci_low_ms"], r["ttft_p50_ci_high_ms"]
    assert low <= r["ttft_p50_ms"] <= high


def test_time_cap_counts_both_calls_and_bad_bounds_are_named() -> None:
    clock = FakeClock()
    first, full = stub_sampler(clock)
    r = generation_latency(first, full, 9, clock, min_requests=1000, max_time_s=1.0, warmup=0)
    assert not r["reached_min_requests"]
    assert r["n_requests"] == 17  # ceil(1.0 / (0.022 + 0.038)) requests start before the cap
    with pytest.raises(ValueError, match="new_tokens 1"):
        generation_latency(first, full, 1, clock)
    with pytest.raises(ValueError, match="min_requests=0"):
        generation_latency(first, full, 4, clock, min_requests=0)


def test_rules_allow_lms_in_latency_on_keras_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feasibility.backends, "missing_packages", lambda b: [])
    monkeypatch.setattr(feasibility, "runtime_installed", lambda p: None)
    host = Host(0)
    assert check(make_spec("hub_gemma_tiny", mode="latency"), host).rule is None
    verdict = check(make_spec("hub_gemma_tiny", mode="latency", runtime="onnx"), host)
    assert verdict.rule == "serving-point" and "runtime keras" in verdict.reason
    verdict = check(make_spec("hub_llama3_tiny", mode="server", qps=5.0), host)
    assert verdict.rule == "serving-point" and "--modes latency" in verdict.reason
    verdict = check(make_spec("hub_bert_tiny", mode="latency"), host)
    assert verdict.rule == "serving-point" and "single-input" in verdict.reason
    verdict = check(make_spec("hub_gemma_tiny", mode="latency", new_tokens=1), host)
    assert verdict.rule == "serving-point" and "new_tokens >= 2" in verdict.reason


GEN = {
    "p50_ms": 60.0,
    "p50_ci_ms": (59.0, 61.0),
    "p90_ms": 64.0,
    "p99_ms": 70.0,
    "max_latency_ms": 71.0,
    "n_requests": 30,
    "runtime": "keras",
    "ttft_p50_ms": 22.0,
    "ttft_p50_ci_ms": (21.5, 22.5),
    "ttft_p90_ms": 25.0,
    "ttft_p99_ms": 31.0,
    "tpot_p50_ms": 2.25,
    "tpot_p90_ms": 2.5,
    "tpot_p99_ms": 3.0,
    "tpot_p99_ci_ms": (2.75, 3.25),
}


def test_latency_table_shows_ttft_and_tpot_when_present() -> None:
    lm = make_result(model="hub_gemma_tiny", mode="latency", batch_size=1, raw=GEN)
    plain = make_result(mode="latency", batch_size=1, raw={"p50_ms": 1.5, "p99_ms": 2.0})
    text = latency_markdown([lm, plain])
    assert "| TTFT p50 ms |" in text and "| TPOT p99 ms |" in text
    assert "| 22.0 ±0.5 |" in text and "| 3 ±0.25 |" in text
    assert "TPOT: time per output token" in text
    rows = latency_rows([lm, plain])
    assert {len(r.cells) for r in rows} == {19}  # 13 columns and 6 of TTFT/TPOT, every row
    assert rows[1].cells[10:13] == ("-", "-", "-")  # mnist_mlp measured no TTFT
    table = latency_table([lm, plain])
    assert table is not None and [c.header for c in table.columns][10] == "TTFT p50 ms"
    assert "<th>TPOT p90 ms</th>" in latency_html([lm, plain])
    assert "TTFT" not in latency_markdown([plain])  # no LM point: the table as it was


@pytest.mark.slow
@needs_backend("jax")
@pytest.mark.skipif(importlib.util.find_spec("keras_hub") is None, reason="keras_hub not installed")
def test_generation_latency_of_hub_gemma_tiny_through_the_worker(tmp_path: Path) -> None:
    small = {"min_requests": 12, "warmup": 1, "serving_max_time": 60.0}
    spec = make_spec("hub_gemma_tiny", mode="latency", prompt_len=8, new_tokens=6, **small)
    r = run_worker(spec, tmp_path)
    assert r.status == "ok", r.error
    assert r.n_requests >= 12 and len(r.window_times_s) == r.n_requests
    assert r.ttft_p50_ms <= r.ttft_p90_ms <= r.ttft_p99_ms
    assert r.tpot_p50_ms <= r.tpot_p90_ms <= r.tpot_p99_ms
    assert r.ttft_p50_ci_ms[0] <= r.ttft_p50_ms <= r.ttft_p50_ci_ms[1]
    assert r.tpot_p99_ci_ms[0] <= r.tpot_p99_ms <= r.tpot_p99_ci_ms[1]
    assert r.p50_ms <= r.p99_ms and r.ttft_p50_ms > 0
    assert r.runtime == "keras" and "GemmaCausalLM.generate" in r.runtime_variant
    assert r.settings["prompt_len"] == 8 and r.settings["new_tokens"] == 6
