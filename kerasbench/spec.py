"""A benchmark point (Spec) and its validation.

Every Spec field is a key of suite files (``kerasbench.suite``); a field that is a
``run`` flag says so in its metadata (``flag(...)``), so a new axis is one edit
here. Validation happens here, before any worker starts, and every error names
the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from kerasbench.backends import BACKENDS
from kerasbench.models import MODELS, OPTIMIZERS, get_model, is_user_model, user_label
from kerasbench.spec_serving import SERVING_MODES, check_serving

# input_only times the input pipeline alone (no model): samples/s a loader can feed.
# generate: autoregressive decoding, causal LMs only.
MODES = ("fit", "train_on_batch", "predict", "input_only", "generate", *SERVING_MODES)
# bfloat16: weights and compute in bf16 (keras.io ran its LLMs so); mixed_*: float32 weights.
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16", "bfloat16")
DATA_FORMATS = ("channels_last", "channels_first")
JIT_COMPILE = ("auto", "on", "off")
DATASETS = ("synthetic", "cifar10", "imagefolder", "text")
# How data reaches the model (see kerasbench/data/pipeline.py and docs/axes.md).
INPUTS = ("arrays", "generator", "native")
# ImageFolder preprocessing: the seed's plain square resize, or the standard
# shorter-side resize and centre crop (see kerasbench/data/imagefolder.py).
PREPROCESS = ("resize_crop", "resize256")
DEVICE_KINDS = ("auto", "cpu", "gpu")
ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# What a native baseline compiles (issue 16): torch-native eager or a torch.compile mode;
# auto = the backend's default (torch-native eager, jax-native jax.jit). Keras backends
# name theirs with jit_compile.
COMPILE = ("auto", "eager", "default", "max-autotune")
_DEFAULT_HINT = "; leave the key out for the default"


class SpecError(ValueError):
    """A suite file or flag that cannot describe a benchmark point."""


def check_choice(key: str, value: object, allowed: Iterable[str]) -> None:
    """Raise SpecError unless ``value`` is one of ``allowed`` (the error lists them)."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise SpecError(f"{key}: unknown value {value!r}; valid: {', '.join(allowed)}")


def _check_coordinator(value: object, num_hosts: int) -> None:
    if not isinstance(value, str):
        raise SpecError(f"coordinator: expected HOST:PORT, got {value!r}")
    if not value:
        if num_hosts > 1:
            raise SpecError("coordinator: a multi-host point needs HOST:PORT of host 0")
        return
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SpecError(f"coordinator: expected HOST:PORT, got {value!r}")


def flag(default: Any, kind: str, help: str = "", name: str = "", metavar: str = "") -> Any:
    """A Spec field that ``kerasbench run`` exposes as a flag overriding its suite key.

    ``kind`` says how the flag parses: csv (a comma-separated list: an axis),
    csv_int, int, float, str, switch (present = true), onoff (--x/--no-x), or
    choice (one of the field's allowed values). ``name`` defaults to the field's
    name with dashes. A new axis is one field here; the flag follows.
    """
    meta = {"flag": name, "kind": kind, "help": help, "metavar": metavar}
    return dataclasses.field(default=default, metadata=meta)


def _int_range(key: str, value: object, low: int, high: int, hint: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{key}: expected an integer, got {value!r}")
    if not low <= value <= high:
        raise SpecError(f"{key}: {value} is out of range [{low}, {high}]{hint}")


@dataclass(frozen=True)
class Spec:
    """One benchmark point: everything a worker needs to measure it, and nothing else.

    ``batch_size`` is the global batch (across all devices). ``steps`` timed
    steps are split into windows of ``window_steps``; the device is synchronised
    only at window edges.
    """

    model: str
    backend: str = flag(
        dataclasses.MISSING, "csv", "comma-separated (default: installed)", name="--backends"
    )
    mode: str = "train_on_batch"
    # None (absent from a suite) = the model's default, filled in by ``resolved()``;
    # an explicit 0 is an error, not a silent default.
    batch_size: int | None = flag(None, "csv_int", "global batch size(s)")
    steps: int = flag(20, "int", "timed steps per point (a fixed count unless --target-ci)")
    warmup: int = flag(3, "int", "untimed steps after the first step")
    window_steps: int | None = flag(None, "int", "steps per timed window")  # None: steps // 10
    precision: str = flag("float32", "csv", "float32, mixed_float16, mixed_bfloat16")
    data_format: str = flag("channels_last", "csv", "channels_last, channels_first")
    jit_compile: str = flag("auto", "csv", "auto, on, off")
    devices: int = flag(1, "csv_int", "devices per host")
    # cpu hides accelerators; gpu needs ``devices`` GPUs
    device_kind: str = flag("auto", "choice", "auto, cpu or gpu")
    # Multi-host data parallelism (``devices`` is per host). ``host_rank`` and
    # ``coordinator`` say where this process stands; they are not part of the point.
    num_hosts: int = flag(1, "int", "hosts in a multi-host point (default: from torchrun/SLURM)")
    host_rank: int = flag(0, "int", "this host's rank, 0 for the coordinator")
    coordinator: str = flag("", "str", "host 0's address for rendezvous", metavar="HOST:PORT")
    # Multi-host points without the shared rendezvous secret (a trusted network only).
    insecure_rendezvous: bool = flag(
        False,
        "switch",
        "multi-host: meet without KERASBENCH_RENDEZVOUS_SECRET(_FILE) (trusted networks only)",
    )
    image_size: int = flag(0, "int", "image side (default: the model's)")  # 0 = model default
    seq_len: int = flag(0, "int", "steps per sample of sequence models")  # 0 = model default
    dataset: str = flag("synthetic", "csv", "synthetic, cifar10, imagefolder, text")
    # the dataset's folder or file; required for every real dataset
    data_path: str = flag("", "str", "the dataset's folder (or text file)", metavar="PATH")
    input: str = flag("arrays", "csv", "arrays, generator, native (see below)")
    preprocess: str = flag("resize_crop", "csv", "imagefolder: resize_crop, resize256")
    # loader workers (threads or processes); 0 = one per usable core
    workers: int = flag(0, "int", "loader workers (default: one per core)")
    use_multiprocessing: bool = flag(
        False, "switch", "generator and grain loaders: worker processes instead of threads"
    )
    strict: bool = flag(
        False, "switch", "an unreadable image file is an error (default: skipped and counted)"
    )
    seed: int = flag(0, "int")
    timeout: float = flag(900.0, "float", "seconds per point before it is killed")
    label: str = flag("", "str", "name for this run's results (e.g. a branch)")
    # Measure until the 95% CI half-width of the median step time is at most this
    # fraction of it (0 = exactly ``steps`` steps), or ``max_time`` seconds of timed
    # windows pass (0 = no limit), never stopping before ``min_windows`` windows.
    target_ci: float = flag(
        0.0,
        "float",
        "measure until the 95%% CI half-width is at most this fraction of the median "
        "(e.g. 0.02); 0 = exactly --steps",
        metavar="FRACTION",
    )
    max_time: float = flag(0.0, "float", "time limit of --target-ci windows", metavar="SECONDS")
    min_windows: int = flag(5, "int", "fewest windows before --target-ci stops")
    repeats: int = flag(1, "int", "fresh worker processes per point")
    repeat: int = 0  # which of those processes this is (set by ``expand_repeats``)
    # allow TensorFloat-32 matmuls/convolutions on GPUs that have them
    tf32: bool = flag(False, "onoff", "allow TF32 on GPUs (default off)")
    # a named environment (``kerasbench env create``) to run the worker in; "" = this Python
    env: str = flag("", "csv", "named environments to run in (an axis; see `kerasbench env`)")
    # serving scenarios (issue 17): modes latency and server (kerasbench.spec_serving)
    runtime: str = flag("keras", "csv", "serving: keras, saved_model, onnx, openvino, litert, ...")
    qps: float = flag(0.0, "float", "server: target rate, requests/s (Poisson arrivals)")
    max_batch: int = flag(1, "int", "server: dynamic batching up to this many requests")
    batch_timeout_ms: float = flag(0.0, "float", "server: longest wait for a batch to fill")
    find_peak: bool = flag(False, "switch", "server: search the highest rate with p99 <= bound")
    p99_bound_ms: float = flag(0.0, "float", "server: the p99 bound (ms) of --find-peak")
    min_requests: int = flag(200, "int", "serving: fewest timed requests per scenario run")
    duration: float = flag(5.0, "float", "server: seconds of arrivals per run")
    serving_max_time: float = flag(60.0, "float", "serving: time cap of one scenario run")

    # native baselines (issue 16)
    compile: str = flag(
        "auto", "csv", "torch-native: auto (eager), eager, default, max-autotune (torch.compile)"
    )
    # your own model and Keras Hub (issue 15; kerasbench.usermodel). ``model`` of a user's
    # model is ``user:`` and a label made from ``model_path`` (models.user_label).
    model_path: str = flag(
        "",
        "str",
        "your own model: FILE.keras, FILE.py:FUNCTION or MODULE:FUNCTION (named user:STEM)",
        metavar="PATH",
    )
    trust_model_code: bool = flag(
        False, "switch", "load a .keras file that carries code (Lambda, custom objects)"
    )
    custom_objects: str = flag("", "str", "a .py file with the model's custom classes", "", "FILE")
    model_args: str = flag("", "str", "keyword arguments of your function", "", "K=V,K=V")
    input_shapes: str = flag("", "str", "shapes of inputs the model leaves unknown", "", "N=AxB,..")
    loss: str = flag("", "str", "your model's loss when it was saved without one")
    optimizer: str = flag("", "csv", "sgd, momentum, rmsprop, adam, adamw (default: the model's)")
    learning_rate: float = flag(0.0, "float", "the optimizer's (default: Keras' for it)")
    lora_rank: int = flag(0, "csv_int", "Keras Hub LLMs: fine-tune LoRA adapters of this rank")
    prompt_len: int = flag(0, "int", "generate, LM latency: prompt tokens (default: half seq_len)")
    new_tokens: int = flag(0, "int", "generate, LM latency: new tokens (default: the rest)")

    def __post_init__(self) -> None:
        _check_user_model(self)
        check_choice("backend", self.backend, BACKENDS)
        check_choice("mode", self.mode, MODES)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("data_format", self.data_format, DATA_FORMATS)
        check_choice("jit_compile", self.jit_compile, JIT_COMPILE)
        check_choice("dataset", self.dataset, DATASETS)
        check_choice("device_kind", self.device_kind, DEVICE_KINDS)
        check_choice("compile", self.compile, COMPILE)
        if self.batch_size is not None:
            _int_range("batch_size", self.batch_size, 1, 1 << 20, _DEFAULT_HINT)
        check_choice("input", self.input, INPUTS)
        check_choice("preprocess", self.preprocess, PREPROCESS)
        _int_range("workers", self.workers, 0, 1024)
        for key in ("use_multiprocessing", "strict", "insecure_rendezvous"):
            if not isinstance(getattr(self, key), bool):
                raise SpecError(f"{key}: expected true or false, got {getattr(self, key)!r}")
        if not isinstance(self.data_path, str):
            raise SpecError(f"data_path: expected a path string, got {self.data_path!r}")
        # Whether a dataset fits the model and its path exists is checked when a
        # run is planned (kerasbench.data.resolve_data_paths), not per field here.
        _int_range("steps", self.steps, 1, 1_000_000)
        _int_range("warmup", self.warmup, 0, 100_000)
        if self.window_steps is not None:
            _int_range("window_steps", self.window_steps, 1, 1_000_000, _DEFAULT_HINT)
        _int_range("devices", self.devices, 1, 1024)
        _int_range("num_hosts", self.num_hosts, 1, 1024)
        _int_range("host_rank", self.host_rank, 0, self.num_hosts - 1)
        _check_coordinator(self.coordinator, self.num_hosts)
        _int_range("image_size", self.image_size, 0, 4096)
        _int_range("seq_len", self.seq_len, 0, 1 << 16)
        _int_range("seed", self.seed, 0, 2**31 - 1)
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)):
            raise SpecError(f"timeout: expected seconds, got {self.timeout!r}")
        if not 0 < self.timeout <= 7 * 24 * 3600:
            raise SpecError(f"timeout: {self.timeout} is out of range (0, 604800]")
        for key, high in (("target_ci", 1.0), ("max_time", 7 * 24 * 3600.0)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SpecError(f"{key}: expected a number, got {value!r}")
            if not 0 <= value <= high:
                raise SpecError(f"{key}: {value} is out of range [0, {high:g}]")
        _int_range("min_windows", self.min_windows, 2, 1_000_000)
        _int_range("repeats", self.repeats, 1, 1000)
        _int_range("repeat", self.repeat, 0, self.repeats - 1)
        if not isinstance(self.tf32, bool):
            raise SpecError(f"tf32: expected true or false, got {self.tf32!r}")
        if not isinstance(self.label, str):
            raise SpecError(f"label: expected a string, got {self.label!r}")
        if not isinstance(self.env, str) or not (self.env == "" or ENV_NAME.fullmatch(self.env)):
            raise SpecError(f"env: {self.env!r} is not an environment name (letters, digits, ._-)")
        if self.image_size and get_model(self.model).input_kind != "image":
            raise SpecError(f"image_size: model {self.model!r} does not take images")
        _check_model_fit(self)
        check_serving(self, SpecError)
        if self.batch_size is not None and self.batch_size % self.total_devices:
            raise SpecError(
                f"batch_size: global batch {self.batch_size} does not split "
                f"evenly over {self.total_devices} devices"
            )

    def resolved(self) -> Spec:
        """The same point with model defaults filled in (what a worker runs)."""
        info = get_model(self.model)
        default_size = info.default_image_size or 0
        if self.dataset == "imagefolder" and self.preprocess == "resize256" and default_size:
            default_size = 256  # the seed's plain 256x256 resize feeds 256x256 to the model
        serving = self.mode in SERVING_MODES  # batch 1; a "window" is one request
        return dataclasses.replace(
            self,
            batch_size=self.batch_size or (1 if serving else info.default_batch_size),
            window_steps=1 if serving else self.window_steps or max(1, self.steps // 10),
            image_size=self.image_size or default_size,
            seq_len=self.seq_len or (info.default_seq_len or 0),
            optimizer=self.optimizer or ("" if info.user else info.optimizer),
        )

    @property
    def total_devices(self) -> int:
        """Devices over all hosts (``devices`` is per host)."""
        return self.devices * self.num_hosts

    @property
    def per_device_batch_size(self) -> int:
        return self.batch_size // self.total_devices

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "spec") -> Spec:
        """Build a Spec from plain data, rejecting unknown keys by name."""
        if "model" not in data and data.get("model_path"):
            data = {**data, "model": user_label(str(data["model_path"]))}
        unknown = sorted(set(data) - SPEC_KEYS)
        if unknown:
            raise SpecError(
                f"{where}: unknown key {unknown[0]!r}; valid: {', '.join(sorted(SPEC_KEYS))}"
            )
        for required in ("model", "backend"):
            if required not in data:
                raise SpecError(
                    f"{where}: no {required} given; valid: {', '.join(REQUIRED_CHOICES[required])}"
                )
        try:
            return cls(**data)
        except SpecError as exc:  # name the file or flag, not only the key
            raise SpecError(f"{where}: {exc}") from None


SPEC_KEYS = frozenset(f.name for f in fields(Spec))
# The keys every point needs, with the names they may take.
REQUIRED_CHOICES = {"model": MODELS, "backend": BACKENDS, "mode": MODES}


def _check_model_fit(spec: Spec) -> None:
    """Sizes the model itself accepts (image minimum, sequences).

    Whether a mode or dataset suits the model is a question of the rule book
    (``kerasbench.feasibility``): such a point is planned and shown as skipped.
    """
    info = get_model(spec.model)
    if spec.image_size and spec.image_size < info.min_image_size:
        raise SpecError(
            f"image_size: {spec.image_size} is below {info.min_image_size}, "
            f"the smallest image model {spec.model!r} accepts"
        )
    if spec.seq_len and not info.takes_sequences:
        raise SpecError(f"seq_len: model {spec.model!r} does not take sequences")


def _check_user_model(spec: Spec) -> None:
    """The model and the issue-15 fields: a zoo name, or ``user:`` with ``model_path``."""
    from kerasbench.usermodel import UserModelError, parse_input_shapes, parse_model_args

    if not is_user_model(spec.model):
        check_choice("model", spec.model, MODELS)
    for key in ("model_path", "custom_objects", "model_args", "input_shapes", "loss"):
        if not isinstance(getattr(spec, key), str):
            raise SpecError(f"{key}: expected a string, got {getattr(spec, key)!r}")
    if is_user_model(spec.model) != bool(spec.model_path):
        raise SpecError(
            f"model_path: {spec.model!r} needs one (FILE.keras, FILE.py:FUNCTION or MODULE:"
            "FUNCTION)"
            if spec.model_path == ""
            else f"model_path: names your own model; leave model out, not {spec.model!r}"
        )
    if not isinstance(spec.trust_model_code, bool):
        raise SpecError(f"trust_model_code: expected true or false, got {spec.trust_model_code!r}")
    try:
        parse_model_args([a for a in spec.model_args.split(",") if a])
        parse_input_shapes([a for a in spec.input_shapes.split(",") if a])
    except UserModelError as exc:
        raise SpecError(str(exc)) from None
    if spec.optimizer:
        check_choice("optimizer", spec.optimizer, OPTIMIZERS)
    lr = spec.learning_rate
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 <= lr < 1e3:
        raise SpecError(f"learning_rate: expected a number in [0, 1000), got {lr!r}")
    _int_range("lora_rank", spec.lora_rank, 0, 4096)
    _int_range("prompt_len", spec.prompt_len, 0, 1 << 16)
    _int_range("new_tokens", spec.new_tokens, 0, 1 << 16)
