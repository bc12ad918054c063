"""The Result record: one benchmark point, measured or not, with how it was measured.

A worker sends back raw measurements (window timings, first-step time, memory,
versions) as one ``kerasbench.worker.protocol.RawMeasurement``, the protocol's
only schema; ``Result.from_worker`` joins them with the Spec and the
host description and derives the statistics, so that every worker, including
the legacy ones under an older Python, only has to time windows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kerasbench.spec import Spec
from kerasbench.spec_serving import SERVING_MODES
from kerasbench.stats import SteadyState, WindowStats
from kerasbench.worker.protocol import CI_FIELDS, GEN_FIELDS, ProtocolError, RawMeasurement

STATUSES = ("ok", "failed", "skipped", "timeout")
# Configuration fields that make two results comparable: same model, same work.
POINT_KEY_FIELDS = (
    "model",
    "backend",
    "mode",
    "dataset",
    "input",
    "batch_size",
    "devices",
    "num_hosts",
    "device_kind_requested",
    "precision",
    "data_format",
    "jit_compile",
    "image_size",
    "seq_len",
    "env",
    "optimizer",
    "learning_rate",
    "lora_rank",
    "prompt_len",
    "new_tokens",
    "model_sha256",  # two user models under one name are two configurations
)
# Serving points (modes latency and server) are also told apart by these; other modes'
# keys stay as they were, so that their history continues.
SERVING_KEY_FIELDS = (
    "runtime",
    "qps",
    "max_batch",
    "batch_timeout_ms",
    "find_peak",
    "p99_bound_ms",
)
# What the serving scenarios measure, copied from the worker's record as it is.
SERVING_RAW = (
    "p50_ms",
    "p50_ci_ms",
    "p90_ms",
    "p90_ci_ms",
    "p99_ms",
    "p99_ci_ms",
    "max_latency_ms",
    "n_requests",
    "achieved_qps",
    "n_dropped",
    "n_late",
    "peak_qps",
    "runtime_variant",
    "export_s",
    "artifact_bytes",
    "max_rel_error",
    "floor_p50_ms",
    "floor_max_qps",
    "floor_flags",
    *GEN_FIELDS,
)
_TUPLES = CI_FIELDS
# Modes whose work includes the optimizer's update (its identity matters only there).
TRAINING_MODES = ("fit", "train_on_batch")


@dataclass(frozen=True)
class Result:
    """One row of the results store. ``None`` means "not measured"."""

    # what was asked (the Spec)
    model: str
    backend: str
    mode: str
    dataset: str
    batch_size: int  # global batch, across all devices
    per_device_batch_size: int
    devices: int
    device_kind_requested: str
    precision: str
    data_format: str
    jit_compile: str
    image_size: int
    seed: int
    label: str
    status: str
    error: str | None = None
    input: str = "arrays"  # how batches reached the model: arrays | generator | native
    seq_len: int = 0  # steps per sample of sequence models (0: not a sequence model)
    # what was measured
    throughput_unit: str = "samples/s"  # of samples_per_sec: "tokens/s" for generate
    samples_per_sec: float | None = None
    samples_per_sec_ci: tuple[float, float] | None = None
    step_time_ms: float | None = None  # median per-step time over windows
    step_time_ci_ms: tuple[float, float] | None = None
    step_time_cv: float | None = None
    steps_measured: int | None = None
    window_steps: int | None = None
    n_windows: int | None = None
    window_times_s: tuple[float, ...] = ()  # raw window durations, for stats and compare
    warmup_steps: int | None = None
    time_to_first_step_s: float | None = None  # process start of the model to first step done
    compile_time_s: float | None = None  # first step minus a steady step
    peak_host_memory_bytes: int | None = None
    peak_device_memory_bytes: int | None = None
    input_wait_fraction: float | None = None  # train_on_batch: share of timed windows awaiting data
    skipped_files: int | None = None  # imagefolder: unreadable image files left out
    # serving scenarios (issue 17): the Spec's serving fields, then what was measured
    # (kerasbench.worker.protocol.RawMeasurement); window_times_s holds each request's latency
    runtime: str = "keras"
    qps: float = 0.0
    max_batch: int = 1
    batch_timeout_ms: float = 0.0
    find_peak: bool = False
    p99_bound_ms: float = 0.0
    p50_ms: float | None = None
    p50_ci_ms: tuple[float, float] | None = None
    p90_ms: float | None = None
    p90_ci_ms: tuple[float, float] | None = None
    p99_ms: float | None = None
    p99_ci_ms: tuple[float, float] | None = None
    max_latency_ms: float | None = None
    n_requests: int | None = None
    achieved_qps: float | None = None
    n_dropped: int | None = None
    n_late: int | None = None
    peak_qps: float | None = None
    runtime_variant: str | None = None
    export_s: float | None = None
    artifact_bytes: int | None = None
    max_rel_error: float | None = None
    floor_p50_ms: float | None = None
    floor_max_qps: float | None = None
    floor_flags: tuple[str, ...] = ()
    # your own model and Keras Hub (issue 15)
    optimizer: str = ""  # training modes: sgd, momentum, ...; "" = not training / the model's
    learning_rate: float = 0.0  # 0: Keras' default for the optimizer (settings say which)
    lora_rank: int = 0  # LoRA fine-tuning of a Keras Hub LLM (0: full training)
    prompt_len: int = 0  # generate: as asked (0: the default; settings say which)
    new_tokens: int = 0
    model_sha256: str | None = None  # a user's model: its .keras file or builder source
    params: int | None = None
    trainable_params: int | None = None  # LoRA: the adapters' parameters
    input_signature: str | None = None  # "name:AxB:dtype, ...": a user's model's inputs
    time_to_first_token_s: float | None = None  # generate: prefill + one token (median)
    time_per_output_token_s: float | None = None  # generate: each further token (median)
    # generation latency of a causal LM in mode latency (issue 17): per-request time to
    # first token and time per output token, percentiles in ms with 95% bootstrap CIs
    ttft_p50_ms: float | None = None
    ttft_p50_ci_ms: tuple[float, float] | None = None
    ttft_p90_ms: float | None = None
    ttft_p90_ci_ms: tuple[float, float] | None = None
    ttft_p99_ms: float | None = None
    ttft_p99_ci_ms: tuple[float, float] | None = None
    tpot_p50_ms: float | None = None
    tpot_p50_ci_ms: tuple[float, float] | None = None
    tpot_p90_ms: float | None = None
    tpot_p90_ci_ms: tuple[float, float] | None = None
    tpot_p99_ms: float | None = None
    tpot_p99_ci_ms: tuple[float, float] | None = None
    # how and where
    device_kind: str | None = None
    device_name: str | None = None
    keras_version: str | None = None
    backend_version: str | None = None
    python_version: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # resolved backend settings
    hostname: str | None = None
    cpu: str | None = None
    cpu_count: int | None = None
    kerasbench_version: str | None = None
    git_commit: str | None = None
    started_at: str | None = None
    duration_s: float | None = None  # wall time of the whole worker process
    # share of the machine's CPU time the hypervisor gave other tenants while the worker
    # ran (Linux steal time; 0 on bare metal): a VM's noisy neighbours, in one figure
    cpu_steal_fraction: float | None = None
    run_id: str | None = None
    stderr_tail: str | None = None
    num_hosts: int = 1  # ``devices`` is per host
    losses: tuple[float, ...] = ()  # training loss of every step, where the worker records it
    # repeats and stopping (kerasbench.stats)
    repeat: int = 0  # index of this worker process among the point's repeats
    stop_reason: str | None = None  # "steps", "target_ci", "max_time" or "max_windows"
    target_ci: float | None = None  # the CI half-width asked for (None: a fixed step count)
    # steady state: the first timed window against the median (kerasbench.stats.SteadyState)
    first_window_step_ms: float | None = None
    first_window_ratio: float | None = None  # first window / median step time
    drift: float | None = None  # trend over the last half of the windows, relative
    settled: bool | None = None  # False: a significant trend above 5% (never settled)
    # work and utilisation (kerasbench.worker.flops, kerasbench.worker.peak)
    forward_flops_per_sample: float | None = None  # 1 multiply-add = 2 FLOPs
    flops_per_step: float | None = None  # the batch's FLOPs: 3x forward when training
    flops_uncounted: tuple[str, ...] = ()  # layers with weights that no rule counts
    achieved_tflops: float | None = None
    peak_tflops: float | None = None  # measured matmul peak of this device/backend/precision
    mfu: float | None = None  # achieved / peak
    # several processes pooled into one row by a report (kerasbench.report.pool)
    repeats_pooled: int | None = None
    between_process_cv: float | None = None
    within_process_cv: float | None = None
    # named environments (kerasbench.envs): where the worker ran and what was installed there
    env: str = ""  # the named environment ("" = the launcher's interpreter)
    versions: dict[str, str] = field(default_factory=dict)  # every distribution -> version
    # interleaving (kerasbench.orchestrate.interleave): the round (ABBA order) and the place
    round_index: int | None = None
    round_position: int | None = None
    # the machine's own speed just before and after the point (kerasbench.probe figures)
    probe_before: dict[str, float] | None = None
    probe_after: dict[str, float] | None = None
    # native baselines (issue 16): what the native side compiled (Spec.compile)
    compile: str = "auto"

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status: {self.status!r} is not one of {', '.join(STATUSES)}")

    @property
    def point_key(self) -> str:
        serving = SERVING_KEY_FIELDS if self.mode in SERVING_MODES else ()
        key = "|".join(str(getattr(self, f)) for f in (*POINT_KEY_FIELDS, *serving))
        # compile joined the key with the native baselines; "auto" keeps older keys as they were.
        return key if self.compile == "auto" else f"{key}|compile={self.compile}"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in (
            "samples_per_sec_ci",
            "step_time_ci_ms",
            "window_times_s",
            "losses",
            "flops_uncounted",
            "floor_flags",
            *_TUPLES,
        ):
            if data[key] is not None:
                data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """Rebuild a stored record; keys from newer versions are ignored, not fatal."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("samples_per_sec_ci", "step_time_ci_ms", *_TUPLES):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        values["window_times_s"] = tuple(values.get("window_times_s") or ())
        values["losses"] = tuple(values.get("losses") or ())
        values["flops_uncounted"] = tuple(values.get("flops_uncounted") or ())
        values["floor_flags"] = tuple(values.get("floor_flags") or ())
        if "optimizer" not in values:  # before issue 15 every training point ran plain SGD
            values["optimizer"] = "sgd" if values.get("mode") in TRAINING_MODES else ""
        return cls(**values)

    @classmethod
    def from_spec(cls, spec: Spec, status: str, error: str | None = None, **extra: Any) -> Result:
        """A result that carries the spec's configuration and no measurement."""
        unit = {"generate": "tokens/s", "latency": "requests/s", "server": "requests/s"}
        extra.setdefault("throughput_unit", unit.get(spec.mode, "samples/s"))
        serving = {k: getattr(spec, k) for k in SERVING_KEY_FIELDS}
        return cls(
            model=spec.model,
            backend=spec.backend,
            mode=spec.mode,
            dataset=spec.dataset,
            input=spec.input,
            batch_size=spec.batch_size,
            per_device_batch_size=spec.per_device_batch_size,
            devices=spec.devices,
            num_hosts=spec.num_hosts,
            device_kind_requested=spec.device_kind,
            precision=spec.precision,
            data_format=spec.data_format,
            jit_compile=spec.jit_compile,
            image_size=spec.image_size,
            seq_len=spec.seq_len,
            seed=spec.seed,
            label=spec.label,
            status=status,
            error=error,
            warmup_steps=spec.warmup,
            window_steps=spec.window_steps,
            **serving,
            compile=spec.compile,
            optimizer=spec.optimizer if spec.mode in TRAINING_MODES else "",
            learning_rate=spec.learning_rate if spec.mode in TRAINING_MODES else 0.0,
            lora_rank=spec.lora_rank,
            prompt_len=spec.prompt_len,
            new_tokens=spec.new_tokens,
            **extra,
        )

    @classmethod
    def from_worker(
        cls, spec: Spec, raw: RawMeasurement | Mapping[str, Any], **extra: Any
    ) -> Result:
        """Join a worker's raw measurement with its spec and derive the statistics.

        ``raw`` is a ``RawMeasurement`` or its parsed JSON; a record that breaks the
        protocol (a wrong type, a non-positive window) becomes a ``failed`` result
        naming the field, never an exception.
        """
        if not isinstance(raw, RawMeasurement):
            try:
                raw = RawMeasurement.from_json(raw)
            except ProtocolError as exc:
                return cls.from_spec(spec, "failed", str(exc), **extra)
        if raw.status == "ok" and not raw.window_times_s:
            error = "worker reported no timed windows"
            raw = dataclasses.replace(raw, status="failed", error=error)
        measured = {k: getattr(raw, k) for k in RAW_COPIED}
        measured.update(settings=dict(raw.settings), losses=tuple(map(float, raw.losses)))
        if raw.window_times_s:
            measured.update(_window_figures(spec, raw))
        if spec.mode in SERVING_MODES:
            measured.update(_serving_figures(spec, raw))
        return cls.from_spec(spec, raw.status, raw.error, **measured, **extra)


# Fields a Result takes from the worker's record as they are.
RAW_COPIED = (
    "time_to_first_step_s",
    "peak_host_memory_bytes",
    "peak_device_memory_bytes",
    "device_kind",
    "device_name",
    "keras_version",
    "backend_version",
    "python_version",
    "input_wait_fraction",
    "skipped_files",
    "model_sha256",
    "params",
    "trainable_params",
    "input_signature",
    "time_to_first_token_s",
    "time_per_output_token_s",
)


def _window_figures(spec: Spec, raw: RawMeasurement) -> dict[str, Any]:
    """Throughput, its CI, compile time, steady state and utilisation from the windows."""
    windows = tuple(float(w) for w in raw.window_times_s)
    k = spec.window_steps
    stats = WindowStats.of([w / k for w in windows])
    # Items per step: the batch, or the new tokens of a generate step.
    batch = raw.items_per_step or spec.batch_size
    figures: dict[str, Any] = dict(
        window_times_s=windows,
        n_windows=stats.n_windows,
        steps_measured=stats.n_windows * k,
        step_time_ms=stats.median_s * 1e3,
        step_time_ci_ms=stats.scaled_ci(1e3),  # None below 6 windows (stats.ci_method)
        step_time_cv=stats.cv,
        samples_per_sec=batch / stats.median_s,
        samples_per_sec_ci=stats.throughput_ci(batch),
    )
    if raw.throughput_unit:
        figures["throughput_unit"] = raw.throughput_unit
    if raw.first_step_s is not None:
        figures["compile_time_s"] = max(0.0, raw.first_step_s - stats.median_s)
    steady = SteadyState.of([w / k for w in windows])
    figures.update(
        first_window_step_ms=steady.first_window_s * 1e3,
        first_window_ratio=steady.first_window_ratio,
        drift=steady.drift,
        settled=steady.settled,
        stop_reason=raw.stop_reason or "steps",
        target_ci=spec.target_ci or None,
    )
    figures.update(_utilisation(spec, raw, batch / stats.median_s))
    return figures


def _serving_figures(spec: Spec, raw: RawMeasurement) -> dict[str, Any]:
    """The serving fields; a server point's throughput is its achieved (or peak) rate.

    A latency point's throughput stays 1 / median latency (from its windows,
    one request each). A server point's rate is set by its generator, so its
    figure is the rate it achieved, or with --find-peak the peak rate; it has no
    CI of its own (the latency percentiles carry the CIs).
    """
    figures: dict[str, Any] = {k: getattr(raw, k) for k in SERVING_RAW}
    figures["floor_flags"] = tuple(raw.floor_flags)
    rate = raw.peak_qps if spec.find_peak else raw.achieved_qps
    if spec.mode == "server" and rate is not None:
        figures.update(samples_per_sec=rate, samples_per_sec_ci=None)
    return figures


def _utilisation(spec: Spec, raw: RawMeasurement, samples_per_sec: float) -> dict[str, Any]:
    """FLOPs per step, achieved TFLOP/s and MFU from the worker's counted forward FLOPs."""
    forward = raw.forward_flops_per_sample
    if not forward:
        return {}
    # generate: work per new token depends on the decoding; serving: on the batching. Not counted.
    if spec.mode == "generate" or spec.mode in SERVING_MODES:
        return {"forward_flops_per_sample": float(forward)}
    # Training = forward + backward (gradients w.r.t. activations and weights): 3x forward.
    factor = 1 if spec.mode == "predict" else 3
    achieved = factor * forward * samples_per_sec / 1e12
    peak = raw.peak_tflops
    return {
        "forward_flops_per_sample": float(forward),
        "flops_per_step": factor * forward * spec.batch_size,
        "flops_uncounted": tuple(raw.flops_uncounted),
        "achieved_tflops": achieved,
        "peak_tflops": peak,
        "mfu": achieved / peak if peak else None,
    }
