"""The serving engine: modes ``latency`` and ``server`` on one runtime (issue 17).

``load`` makes the requests (synthetic inputs of ``batch_size`` samples, and
the larger batches a dynamic batcher serves), ``build`` the uncompiled model,
and ``measure`` prepares the runtime once, outside timing (export, load, the
output check against Keras: ``kerasbench.serving.runtimes.prepare``), then
runs the scenario (``kerasbench.serving.scenarios``). A runtime that cannot
serve the model here (``Skip``) makes the point skipped with its reason; one
whose outputs differ from Keras' (``OutputMismatch``) makes it fail.

Each timed request's latency becomes one "window" of one step (the Spec's
``window_steps`` is 1 for these modes), so the record's windows are the
latencies a comparison needs. The generator's own floor is measured once per
host and cached beside the matmul peak (``kerasbench.worker.peak.cache_dir``).

A causal LM in mode ``latency`` is served by its own KV-cached sampler instead
(``measure_generation``): each request is one seeded prompt generating
``new_tokens`` tokens, timed with its time to first token and time per output
token (``kerasbench.serving.generation`` says how and what the method costs).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import tempfile
import time
from typing import Any

import numpy as np

from kerasbench.data import synthetic
from kerasbench.models import ModelInfo
from kerasbench.serving import Skip, floor_flags, generation, measure_floor, runtimes, scenarios
from kerasbench.worker import protocol
from kerasbench.worker.engines import Engine, Measured, PointData
from kerasbench.worker.measure import Timing
from kerasbench.worker.peak import cache_dir
from kerasbench.worker.protocol import PointSkipped

FLOOR_CACHE = "serving_floor.json"
# find_peak's search stops after this many scenario time caps (serving_max_time) in all.
PEAK_BUDGET_RUNS = 6
# Requests of the quick latency probe that places find_peak's first rate.
PROBE_REQUESTS = 20
# Fields of a scenario record that go into the result's settings (the rest are fields).
SETTING_KEYS = ("offered_qps", "mean_batch", "n_scheduled", "wake_delay_p50_ms", "elapsed_s")
# Distinct seeded prompts a generation latency point cycles over (as mode generate does).
N_PROMPTS = 4


def cached_floor() -> tuple[dict[str, Any], str]:
    """The generator's floor on this host (measured once, then read): (floor, source)."""
    key = f"{socket.gethostname()}|python {platform.python_version()}"
    path = cache_dir() / FLOOR_CACHE
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
        cache = cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        cache = {}
    entry = cache.get(key)
    if isinstance(entry, dict) and all(
        isinstance(entry.get(k), (int, float)) for k in ("latency_p50_ms", "max_qps")
    ):
        return entry, f"cache {path}"
    floor = measure_floor()
    cache[key] = {**floor, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache costs a re-measure next time, nothing else
    return floor, "measured"


class ServingEngine(Engine):
    """One process, one device, one runtime: the latency or server scenario."""

    def load(self, info: ModelInfo) -> PointData:
        if info.causal_lm:
            return PointData(info, N_PROMPTS)  # prompts are made with the plan, in measure
        x, y = synthetic.make_arrays(info, self.spec, 1)  # one request of batch_size samples
        return PointData(info, 1, x, y)

    def build(self, info: ModelInfo) -> Any:
        return info.build(self.spec)  # served, never trained: no compile

    def batches(self, x: np.ndarray) -> dict[int, np.ndarray]:
        """Every batch the scenario serves, by number of samples (dynamic batching: k requests)."""
        size = self.spec.batch_size
        ks = range(1, (self.spec.max_batch if self.spec.mode == "server" else 1) + 1)
        return {k * size: np.ascontiguousarray(np.concatenate([x] * k)) for k in ks}

    def measure(self, model: Any, data: PointData, started: float) -> Measured:
        spec = self.spec
        if data.info.causal_lm:
            return self.measure_generation(model, data.info, started)
        assert data.x is not None
        batches = self.batches(data.x)
        workdir = tempfile.mkdtemp(prefix="kerasbench-serving-")
        try:
            try:
                rt = runtimes.prepare(model, spec.runtime, batches, workdir, spec.precision)
            except Skip as exc:
                raise PointSkipped(str(exc)) from None
            ready = time.perf_counter()
            first = time.perf_counter()
            rt.predict(batches[spec.batch_size])
            first_step_s = time.perf_counter() - first
            floor, floor_source = cached_floor()
            record, extra = self.run_scenario(rt.predict, batches)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        latencies = [float(t) for t in record["latencies_s"] if t > 0]
        timing = Timing(ready - started + first_step_s, first_step_s, latencies, "min_requests")
        settings = {
            "runtime_variant": rt.description,
            "serving_floor_source": floor_source,
            "serving_floor": {k: v for k, v in floor.items() if k != "scenario"},
            **{f"serving_{k}": record[k] for k in SETTING_KEYS if k in record},
            **extra,
        }
        return Measured(
            timing,
            latencies,
            items_per_step=1,
            throughput_unit="requests/s",
            settings=settings,
            record=self.fields(record, rt.record(), floor, extra.get("peak_qps")),
        )

    def measure_generation(self, lm: Any, info: ModelInfo, started: float) -> Measured:
        """Generation latency of a causal LM on runtime keras: TTFT, TPOT and whole requests."""
        from kerasbench.models import hub_llm
        from kerasbench.worker.generate import GeneratePlan

        spec = self.spec
        plan = GeneratePlan.of(spec, info.seq_len(spec))
        rng = np.random.default_rng(spec.seed)
        length = plan.prompt_len + plan.new_tokens
        full = [
            hub_llm.prompt(info, spec.batch_size, plan.prompt_len, length, rng)
            for _ in range(N_PROMPTS)
        ]
        # The same prompts with room for one new token: prefill and the first token.
        first = [
            {k: np.ascontiguousarray(v[:, : plan.prompt_len + 1]) for k, v in b.items()}
            for b in full
        ]
        ready = time.perf_counter()
        hub_llm.generate(lm, first[0])  # each buffer length compiles its own sampler
        hub_llm.generate(lm, full[0])
        first_step_s = time.perf_counter() - ready
        floor, floor_source = cached_floor()
        record = generation.generation_latency(
            lambda i: hub_llm.generate(lm, first[i % N_PROMPTS]),
            lambda i: hub_llm.generate(lm, full[i % N_PROMPTS]),
            plan.new_tokens,
            min_requests=spec.min_requests,
            max_time_s=spec.serving_max_time,
            warmup=spec.warmup,
            seed=spec.seed,
        )
        latencies = [float(t) for t in record["latencies_s"] if t > 0]
        timing = Timing(ready - started + first_step_s, first_step_s, latencies, "min_requests")
        variant = f"{type(lm).__name__}.generate (Keras Hub's KV-cached sampler, greedy)"
        runtime = {"runtime": "keras", "runtime_variant": variant}
        ci = {
            f"{w}_{q}_ci_ms": (record[f"{w}_{q}_ci_low_ms"], record[f"{w}_{q}_ci_high_ms"])
            for w in ("ttft", "tpot")
            for q in ("p50", "p90", "p99")
        }
        gen = {k: record.get(k, ci.get(k)) for k in protocol.GEN_FIELDS}
        settings = {
            "runtime_variant": variant,
            "prompt_len": plan.prompt_len,
            "new_tokens": plan.new_tokens,
            "decoding": "greedy, Keras Hub's KV-cached sampler",
            "ttft_method": "a 1-token generate call on the request's prompt, before the full call",
            "serving_floor_source": floor_source,
            "serving_elapsed_s": record["elapsed_s"],
            "serving_reached_min_requests": record["reached_min_requests"],
        }
        fields = {**self.fields(record, runtime, floor, None), **gen}
        return Measured(timing, latencies, [], 1, "requests/s", settings, record=fields)

    def run_scenario(
        self, predict: Any, batches: dict[int, np.ndarray]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The scenario's record (with its latencies) and what goes to settings besides."""
        spec = self.spec
        if spec.mode == "latency":
            record = scenarios.latency(
                predict,
                batches[spec.batch_size],
                min_requests=spec.min_requests,
                max_time_s=spec.serving_max_time,
                warmup=spec.warmup,
                seed=spec.seed,
            )
            return record, {"serving_reached_min_requests": record["reached_min_requests"]}

        def run_at(qps: float) -> dict[str, Any]:
            return scenarios.server(
                predict,
                lambda n: batches[n],
                qps,
                duration_s=spec.duration,
                min_requests=spec.min_requests,
                batch_size=spec.batch_size,
                max_batch=spec.max_batch,
                batch_timeout_ms=spec.batch_timeout_ms,
                max_time_s=spec.serving_max_time,
                latency_bound_ms=spec.p99_bound_ms or None,
                seed=spec.seed,
                warmup=spec.warmup,
            )

        if not spec.find_peak:
            return run_at(spec.qps), {}
        start = spec.qps or self.start_rate(predict, batches[spec.batch_size])
        runs: dict[float, dict[str, Any]] = {}

        def remembered(qps: float) -> dict[str, Any]:
            runs[qps] = run_at(qps)
            return runs[qps]

        budget = min(PEAK_BUDGET_RUNS * spec.serving_max_time, 0.6 * spec.timeout)
        peak = scenarios.find_peak(remembered, spec.p99_bound_ms, start, budget_s=budget)
        # The run at the peak; with no rate under the bound, the slowest rate tried.
        record = peak["at_peak"] or runs[min(runs)]
        extra = {
            "peak_qps": peak["peak_qps"],
            "serving_peak_converged": peak["converged"],
            "serving_peak_bracket_qps": peak["bracket_qps"],
            "serving_peak_trials": peak["trials"],  # [{qps, p99_ms, ok}]: the latency-vs-rate curve
        }
        return record, extra

    def start_rate(self, predict: Any, batch: np.ndarray) -> float:
        """find_peak's first rate: half of what one serving thread sustains, by a quick probe."""
        probe = scenarios.latency(
            predict, batch, min_requests=PROBE_REQUESTS, min_time_s=0.0, warmup=2, resamples=100
        )
        return 0.5 * 1e3 / max(probe["p50_ms"], 1e-3)

    def fields(
        self,
        record: dict[str, Any],
        runtime: dict[str, Any],
        floor: dict[str, Any],
        peak_qps: float | None,
    ) -> dict[str, Any]:
        """The RawMeasurement serving fields of a scenario record."""
        n_done = record.get("n_completed", record.get("n_requests"))
        return {
            **{f"{q}_ms": record[f"{q}_ms"] for q in ("p50", "p90", "p99")},
            **{
                f"{q}_ci_ms": (record[f"{q}_ci_low_ms"], record[f"{q}_ci_high_ms"])
                for q in ("p50", "p90", "p99")
            },  # fmt: skip
            "max_latency_ms": record["max_ms"],
            "n_requests": n_done,
            "achieved_qps": record.get("achieved_qps"),
            "n_dropped": record.get("n_dropped"),
            "n_late": record.get("n_late"),
            "peak_qps": peak_qps,
            **runtime,
            "floor_p50_ms": floor["latency_p50_ms"],
            "floor_max_qps": floor["max_qps"],
            "floor_flags": tuple(floor_flags(record, floor)),
        }
