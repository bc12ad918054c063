"""Generation latency of a causal LM as a single stream: TTFT and TPOT per request (issue 17).

A request is one prompt of ``prompt_len`` tokens that the model continues by
``new_tokens`` tokens with its own KV-cached sampler, one request at a time, back
to back (MLPerf's SingleStream). Keras Hub's sampler (``CausalLM.generate``) is
one compiled call that returns every token at once: it has no hook that hands
out the first token as it is written, so the time to first token cannot be read
inside the full call. Each request therefore runs its prompt twice, back to back:

1. ``first(i)``: a buffer with room for one new token, so prefill of the prompt
   and the first token, ending when the token is on the host. That is the time
   to first token (TTFT) a streaming server would deliver, measured the only way
   the sampler allows.
2. ``full(i)``: the full call writing ``new_tokens`` tokens. Its time is the
   request's latency (the ``p50_ms``... fields, as for every latency point).

The time per output token (TPOT) of a request is ``(full - first) / (new_tokens - 1)``,
clamped at 0. The full call prefills its whole buffer (prompt and new positions,
as ``hub_llm.time_generation`` states too), so TPOT includes that extra prefill
work: a small overestimate, stated rather than hidden. Each of the three series
gets nearest-rank percentiles with bootstrap CIs (``percentiles``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kerasbench.serving.loadgen import Clock, RealClock
from kerasbench.serving.percentiles import latency_percentiles, percentiles_ms
from kerasbench.stats import BOOTSTRAP_RESAMPLES

Call = Callable[[int], Any]  # prompt index -> the generated ids, on the host


def prefixed(prefix: str, fields: dict[str, float]) -> dict[str, float]:
    """``fields`` with every key prefixed (``p50_ms`` -> ``ttft_p50_ms``)."""
    return {f"{prefix}_{k}": v for k, v in fields.items()}


def generation_latency(
    first: Call,
    full: Call,
    new_tokens: int,
    clock: Clock | None = None,
    min_requests: int = 200,
    min_time_s: float = 1.0,
    max_time_s: float = 60.0,
    warmup: int = 5,
    seed: int = 0,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> dict[str, Any]:
    """Single-stream generation: per request TTFT, TPOT and the whole request's latency.

    ``first(i)`` and ``full(i)`` generate from prompt ``i`` (the caller cycles its
    prompts) one token and ``new_tokens`` tokens. Runs until ``min_requests``
    requests and ``min_time_s`` seconds are done, or ``max_time_s`` passes
    (``reached_min_requests`` says which); the time cap counts both calls.
    """
    if new_tokens < 2:
        raise ValueError(f"generation_latency: new_tokens {new_tokens}: need at least 2")
    if min_requests < 1 or max_time_s <= 0:
        raise ValueError(
            f"generation_latency: bad bounds min_requests={min_requests} max_time_s={max_time_s}"
        )
    clock = clock or RealClock()
    for i in range(warmup):
        first(i)
        full(i)
    ttft: list[float] = []
    tpot: list[float] = []
    whole: list[float] = []
    start = clock.now()
    while True:
        t = clock.now()
        if t - start >= max_time_s or (len(whole) >= min_requests and t - start >= min_time_s):
            break
        i = len(whole)
        first(i)
        t_first = clock.now() - t
        t = clock.now()
        full(i)
        t_full = clock.now() - t
        ttft.append(t_first)
        whole.append(t_full)
        tpot.append(max(t_full - t_first, 0.0) / (new_tokens - 1))

    def summary(times: list[float]) -> dict[str, float]:
        return percentiles_ms(latency_percentiles(times, resamples=resamples, seed=seed))

    return {
        "scenario": "generation_latency",
        "n_requests": len(whole),
        "min_requests": min_requests,
        "reached_min_requests": len(whole) >= min_requests,
        "warmup_requests": warmup,
        "new_tokens": new_tokens,
        "elapsed_s": clock.now() - start,
        **summary(whole),
        **prefixed("ttft", summary(ttft)),
        **prefixed("tpot", summary(tpot)),
        "latencies_s": whole,  # every timed request's full call, in order
        "ttft_s": ttft,
        "tpot_s": tpot,
    }
