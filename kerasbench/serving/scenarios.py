"""Serving scenarios (MLPerf Inference's SingleStream and Server) over any predict callable.

Each scenario is a pure function of ``predict(batch) -> outputs`` and a
``Clock``: ``predict`` must return only once its outputs are computed (the
runtimes in ``runtimes.py`` return NumPy arrays, which forces that). Batches are
built before timing, so the timed part is the runtime's call alone.

- ``latency``: one request at a time, back to back (SingleStream).
- ``server``: requests arrive as a seeded Poisson process at a target rate and
  are served by one serving thread in arrival order, optionally batched
  dynamically; a request's latency runs from its *scheduled* arrival to the end
  of the call that served it, so time spent queued counts (Server).
- ``find_peak``: the highest rate whose p99 stays under a bound (MLPerf's peak
  performance mode: bracket by doubling or halving, then bisect).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kerasbench.serving.loadgen import Clock, RealClock, poisson_arrivals, requests_for
from kerasbench.serving.percentiles import latency_percentiles, percentiles_ms
from kerasbench.stats import BOOTSTRAP_RESAMPLES

Predict = Callable[[Any], Any]
MakeBatch = Callable[[int], Any]  # number of samples -> a batch of that many


def latency(
    predict: Predict,
    batch: Any,
    clock: Clock | None = None,
    min_requests: int = 200,
    min_time_s: float = 1.0,
    max_time_s: float = 60.0,
    warmup: int = 5,
    seed: int = 0,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> dict[str, Any]:
    """Single stream: time ``predict(batch)`` back to back; percentiles with bootstrap CIs.

    Runs until both ``min_requests`` requests and ``min_time_s`` seconds are done,
    or ``max_time_s`` passes; ``reached_min_requests`` says whether the minimum
    was met (a slow model may stop short of it at the time cap).
    """
    if min_requests < 1 or max_time_s <= 0:
        raise ValueError(f"latency: bad bounds min_requests={min_requests} max_time_s={max_time_s}")
    clock = clock or RealClock()
    for _ in range(warmup):
        predict(batch)
    times: list[float] = []
    start = clock.now()
    while True:
        t = clock.now()
        if t - start >= max_time_s or (len(times) >= min_requests and t - start >= min_time_s):
            break
        predict(batch)
        times.append(clock.now() - t)
    return {
        "scenario": "latency",
        "n_requests": len(times),
        "min_requests": min_requests,
        "reached_min_requests": len(times) >= min_requests,
        "warmup_requests": warmup,
        "elapsed_s": clock.now() - start,
        **percentiles_ms(latency_percentiles(times, resamples=resamples, seed=seed)),
        "latencies_s": times,  # every timed request, in order
    }


@dataclass
class _Served:
    """What the serving loop observed, before it is summarised."""

    latencies_s: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    wake_delays_s: list[float] = field(default_factory=list)
    last_end: float = 0.0


def _take_batch(sched: list[float], i: int, clock: Clock, max_batch: int, timeout_s: float) -> int:
    """End index (exclusive) of the batch that starts at request ``i``, waiting as a batcher does.

    Without batching (max_batch 1) it is i + 1. Otherwise it takes every
    request already arrived, up to ``max_batch``, and while the batch is not full
    waits for more until ``timeout_s`` after the oldest request's arrival (the
    rule of TF Serving's ``batch_timeout_micros``); the last request never waits.
    """
    n = len(sched)
    j = i + 1
    close = sched[i] + timeout_s
    while j < n and j - i < max_batch:
        if sched[j] <= clock.now():
            j += 1
        elif sched[j] <= close:
            clock.sleep_until(sched[j])
            j += 1
        else:
            clock.sleep_until(close)
            break
    return j


def _serve(
    predict: Predict,
    batches: dict[int, Any],
    sched: list[float],
    clock: Clock,
    max_batch: int,
    timeout_s: float,
    deadline: float,
) -> _Served:
    """One serving thread over the arrival schedule ``sched`` (absolute clock times)."""
    out = _Served()
    i = 0
    while i < len(sched) and clock.now() < deadline:
        if sched[i] > clock.now():  # idle: wait for the generator's next request
            clock.sleep_until(sched[i])
            out.wake_delays_s.append(clock.now() - sched[i])
        j = _take_batch(sched, i, clock, max_batch, timeout_s)
        predict(batches[j - i])
        end = clock.now()
        out.latencies_s.extend(end - sched[k] for k in range(i, j))
        out.batch_sizes.append(j - i)
        out.last_end = end
        i = j
    return out


def server(
    predict: Predict,
    make_batch: MakeBatch,
    qps: float,
    clock: Clock | None = None,
    duration_s: float = 10.0,
    min_requests: int = 200,
    batch_size: int = 1,
    max_batch: int = 1,
    batch_timeout_ms: float = 0.0,
    max_time_s: float | None = None,
    latency_bound_ms: float | None = None,
    seed: int = 0,
    warmup: int = 5,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> dict[str, Any]:
    """Server: Poisson arrivals at ``qps``, one serving thread; latency includes queueing.

    Each request is ``batch_size`` samples; with ``max_batch`` > 1 up to that many
    requests are served in one call, waiting at most ``batch_timeout_ms`` for a
    batch to fill. Requests not started by ``max_time_s`` (default: three times
    the schedule's length plus a second) are counted as dropped, which bounds an
    overloaded run. ``n_late`` counts served requests over ``latency_bound_ms``.
    """
    if not qps > 0 or max_batch < 1 or batch_size < 1 or batch_timeout_ms < 0:
        raise ValueError(
            f"server: bad settings qps={qps} max_batch={max_batch} batch_size={batch_size} "
            f"batch_timeout_ms={batch_timeout_ms}"
        )
    clock = clock or RealClock()
    arrivals = poisson_arrivals(qps, requests_for(qps, duration_s, min_requests), seed)
    batches = {k: make_batch(k * batch_size) for k in range(1, max_batch + 1)}
    for _ in range(warmup):
        for b in batches.values():
            predict(b)
    span = arrivals[-1]
    t0 = clock.now() + 0.001  # the first arrival is in the future, not already late
    sched = [t0 + a for a in arrivals]
    limit = max_time_s if max_time_s is not None else 3 * span + 1.0
    served = _serve(predict, batches, sched, clock, max_batch, batch_timeout_ms / 1e3, t0 + limit)
    if not served.latencies_s:
        raise RuntimeError(f"server: no request served within max_time_s={limit}")
    n_done = len(served.latencies_s)
    record = {
        "scenario": "server",
        "target_qps": qps,
        "offered_qps": len(arrivals) / span,
        "achieved_qps": n_done / (served.last_end - t0),
        "n_scheduled": len(arrivals),
        "n_completed": n_done,
        "n_dropped": len(arrivals) - n_done,
        "n_late": None,
        "batch_size": batch_size,
        "max_batch": max_batch,
        "batch_timeout_ms": batch_timeout_ms,
        "mean_batch": n_done / len(served.batch_sizes),
        "seed": seed,
        **percentiles_ms(latency_percentiles(served.latencies_s, resamples=resamples, seed=seed)),
    }
    record["latencies_s"] = served.latencies_s  # every served request, in arrival order
    if latency_bound_ms is not None:
        record["n_late"] = sum(1 for x in served.latencies_s if x * 1e3 > latency_bound_ms)
    wake = served.wake_delays_s or [0.0]
    record["wake_delay_p50_ms"] = sorted(wake)[len(wake) // 2] * 1e3
    record["wake_delay_max_ms"] = max(wake) * 1e3
    return record


def find_peak(
    run_at: Callable[[float], dict[str, Any]],
    p99_bound_ms: float,
    start_qps: float,
    clock: Clock | None = None,
    budget_s: float = 300.0,
    rel_tol: float = 0.02,
    max_trials: int = 30,
) -> dict[str, Any]:
    """The highest rate whose server run keeps p99 under ``p99_bound_ms`` with nothing dropped.

    ``run_at(qps)`` runs one server scenario (use the same seed for every rate:
    the schedules are then one schedule scaled, so p99 grows with the rate
    without sampling noise between trials). Doubles or halves from
    ``start_qps`` until the bound is bracketed, then bisects until the bracket
    is within ``rel_tol`` of its lower end, ``budget_s`` (clock time, checked
    between trials) is spent, or ``max_trials`` trials ran.
    """
    if p99_bound_ms <= 0 or not start_qps > 0:
        raise ValueError(f"find_peak: bad p99_bound_ms={p99_bound_ms} or start_qps={start_qps}")
    clock = clock or RealClock()
    start = clock.now()
    trials: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None

    def ok(qps: float) -> bool:
        nonlocal best
        r = run_at(qps)
        passed = r["p99_ms"] <= p99_bound_ms and r["n_dropped"] == 0
        trials.append({"qps": qps, "p99_ms": r["p99_ms"], "ok": passed})
        if passed and (best is None or qps > best["target_qps"]):
            best = r
        return passed

    def spent() -> bool:
        return clock.now() - start >= budget_s or len(trials) >= max_trials

    lo, hi, q = None, None, start_qps
    while (lo is None or hi is None) and not spent():
        if ok(q):
            lo, q = q, q * 2
        else:
            hi, q = q, q / 2
        if hi is not None and lo is None and q < start_qps / 1024:
            break  # even a trickle breaks the bound: the service time alone exceeds it
    while lo is not None and hi is not None and (hi - lo) > rel_tol * lo and not spent():
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    converged = lo is not None and hi is not None and (hi - lo) <= rel_tol * lo
    return {
        "scenario": "find_peak",
        "p99_bound_ms": p99_bound_ms,
        "peak_qps": lo,
        "bracket_qps": [lo, hi],
        "converged": converged,
        "n_trials": len(trials),
        "search_s": clock.now() - start,
        "trials": trials,
        "at_peak": best,
    }
