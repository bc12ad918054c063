"""The load generator's own floor: the scenarios run on a no-op model.

A latency measured by the harness includes the harness: reading the clock,
the loop, and on the server side the generator's sleep-and-wake. Run on a model
that does nothing, the same scenarios give the smallest latency this machine
can report and the highest rate the generator and serving loop sustain. A
model's figures near these are the harness's, not the model's, and are flagged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasbench.serving.loadgen import Clock, RealClock
from kerasbench.serving.scenarios import latency, server

# A target rate above this fraction of the generator's ceiling is flagged: there
# the loop's own cost is a visible share of each request's time.
NEAR_CEILING_FRACTION = 0.5
# A latency under this multiple of the floor's p50 is flagged for the same reason.
NEAR_FLOOR_FACTOR = 10.0


def noop_predict(batch: Any) -> Any:
    """The no-op model: returns its input, computing nothing."""
    return batch


def measure_floor(
    clock: Clock | None = None,
    n_latency: int = 2000,
    n_saturate: int = 20000,
    probe_qps: float = 1000.0,
    probe_s: float = 2.0,
) -> dict[str, Any]:
    """The generator's floor on this machine: latency of a no-op request, max rate, wake error.

    ``max_qps`` is a server run with every request already queued (a rate far
    beyond the loop), so it is how fast the serving loop itself turns requests
    over. ``wake_*`` come from a server run at ``probe_qps``: how late the idle
    loop woke for a scheduled arrival (sleep overshoot), a lower bound on any
    server-scenario latency.
    """
    clock = clock or RealClock()
    batch = np.zeros((1, 1), dtype=np.float32)

    def make_batch(n: int) -> np.ndarray:
        return np.zeros((n, 1), dtype=np.float32)

    single = latency(noop_predict, batch, clock, min_requests=n_latency, min_time_s=0.0)
    saturated = server(
        noop_predict, make_batch, qps=1e9, clock=clock, duration_s=1e-9, min_requests=n_saturate
    )
    probe = server(noop_predict, make_batch, qps=probe_qps, clock=clock, duration_s=probe_s)
    return {
        "scenario": "floor",
        "latency_p50_ms": single["p50_ms"],
        "latency_p99_ms": single["p99_ms"],
        "max_qps": saturated["achieved_qps"],
        "probe_qps": probe_qps,
        "probe_achieved_qps": probe["achieved_qps"],
        "probe_p99_ms": probe["p99_ms"],
        "wake_delay_p50_ms": probe["wake_delay_p50_ms"],
        "wake_delay_max_ms": probe["wake_delay_max_ms"],
    }


def floor_flags(record: dict[str, Any], floor: dict[str, Any]) -> list[str]:
    """Warnings for a scenario record measured too close to the generator's floor or ceiling."""
    flags = []
    target = record.get("target_qps")
    if target is not None and target >= NEAR_CEILING_FRACTION * floor["max_qps"]:
        flags.append(
            f"target rate {target:.0f}/s is near the generator's ceiling "
            f"({floor['max_qps']:.0f}/s on this machine)"
        )
    p50 = record.get("p50_ms")
    if p50 is not None and p50 < NEAR_FLOOR_FACTOR * floor["latency_p50_ms"]:
        flags.append(
            f"p50 {p50:.3f} ms is within {NEAR_FLOOR_FACTOR:.0f}x of the harness floor "
            f"({floor['latency_p50_ms']:.4f} ms)"
        )
    return flags
