"""Benchmark points (Spec), suites of them, and their validation.

A suite file is TOML: an optional ``description``, a ``[defaults]`` table and
one or more ``[[matrix]]`` tables. Every key is a Spec field; a list value is an
axis, and each matrix block expands to the product of its axes::

    [defaults]
    steps = 20

    [[matrix]]
    model = ["mnist_mlp", "cifar10_cnn"]
    mode = ["fit", "train_on_batch", "predict"]

Command-line flags override the same keys in every block. Validation happens
here, before any worker starts, and every error names the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kerasbench.backends import BACKENDS
from kerasbench.models import MODELS, OPTIMIZERS, get_model, is_user_model, user_label

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# input_only times the input pipeline alone (no model): samples/s a loader can feed.
# generate: autoregressive decoding, causal LMs only.
MODES = ("fit", "train_on_batch", "predict", "input_only", "generate")
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
SUITES_DIR = Path(__file__).parent / "suites"
_DEFAULT_HINT = "; leave the key out for the default"


class SpecError(ValueError):
    """A suite file or flag that cannot describe a benchmark point."""


def _choice(key: str, value: object, allowed: Iterable[str]) -> None:
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
    prompt_len: int = flag(0, "int", "generate: prompt tokens (default: half of seq_len)")
    new_tokens: int = flag(0, "int", "generate: tokens written per sequence (default: the rest)")

    def __post_init__(self) -> None:
        _check_user_model(self)
        _choice("backend", self.backend, BACKENDS)
        _choice("mode", self.mode, MODES)
        _choice("precision", self.precision, PRECISIONS)
        _choice("data_format", self.data_format, DATA_FORMATS)
        _choice("jit_compile", self.jit_compile, JIT_COMPILE)
        _choice("dataset", self.dataset, DATASETS)
        _choice("device_kind", self.device_kind, DEVICE_KINDS)
        if self.batch_size is not None:
            _int_range("batch_size", self.batch_size, 1, 1 << 20, _DEFAULT_HINT)
        _choice("input", self.input, INPUTS)
        _choice("preprocess", self.preprocess, PREPROCESS)
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
        if self.image_size and get_model(self.model).input_kind != "image":
            raise SpecError(f"image_size: model {self.model!r} does not take images")
        _check_model_fit(self)
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
        return dataclasses.replace(
            self,
            batch_size=self.batch_size or info.default_batch_size,
            window_steps=self.window_steps or max(1, self.steps // 10),
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
                    f"{where}: no {required} given; valid: {', '.join(_VALID[required])}"
                )
        try:
            return cls(**data)
        except SpecError as exc:  # name the file or flag, not only the key
            raise SpecError(f"{where}: {exc}") from None


SPEC_KEYS = frozenset(f.name for f in fields(Spec))


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
        _choice("model", spec.model, MODELS)
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
        _choice("optimizer", spec.optimizer, OPTIMIZERS)
    lr = spec.learning_rate
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 <= lr < 1e3:
        raise SpecError(f"learning_rate: expected a number in [0, 1000), got {lr!r}")
    _int_range("lora_rank", spec.lora_rank, 0, 4096)
    _int_range("prompt_len", spec.prompt_len, 0, 1 << 16)
    _int_range("new_tokens", spec.new_tokens, 0, 1 << 16)


_VALID = {"model": MODELS, "backend": BACKENDS, "mode": MODES}
# A matrix bigger than this is a typo (or a denial of service), not a benchmark plan.
MAX_POINTS = 100_000
MAX_SUITE_BYTES = 1 << 20


@dataclass(frozen=True)
class Suite:
    """A named list of matrix blocks (each a mapping of Spec keys to values or lists)."""

    name: str
    description: str
    blocks: tuple[dict[str, Any], ...]  # each already merged with the defaults
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)

    def select(self, key: str, wanted: list[Any]) -> Suite:
        """Keep only ``wanted`` values of a selection axis (``model`` or ``mode``).

        Every wanted combination is kept: a wanted model runs on the settings of
        the blocks that hold it, or on the suite's defaults when none does; each
        model of the suite runs every wanted mode, on the settings of its blocks
        that hold that mode, else of its first block. Points that cannot run are
        planned anyway and skipped with the rule book's reason, never dropped.
        """
        for value in wanted:
            _choice(key, value, _VALID[key])
        if key == "model":
            blocks = []
            for model in wanted:
                own = [{**b, "model": [model]} for b in self.blocks if model in _held(b, "model")]
                blocks += own or [{**self.defaults, "model": [model]}]
            return dataclasses.replace(self, blocks=tuple(blocks))
        models = list(dict.fromkeys(m for b in self.blocks for m in _held(b, "model")))
        blocks = []
        for model in models:
            own = [{**b, "model": [model]} for b in self.blocks if model in _held(b, "model")]
            for mode in wanted:
                with_mode = [b for b in own if mode in _held(b, "mode")]
                blocks += [{**b, "mode": [mode]} for b in with_mode or own[:1]]
        return dataclasses.replace(self, blocks=tuple(blocks))

    def expand(
        self, overrides: Mapping[str, Any] | None = None, default_backends: Iterable[str] = ()
    ) -> list[Spec]:
        """All points of the suite, in file order, with ``overrides`` applied to each block.

        ``default_backends`` fills ``backend`` where neither the block nor the
        overrides name one (the CLI passes the installed backends).
        """
        overrides = dict(overrides or {})
        specs: list[Spec] = []
        seen: set[Spec] = set()
        for index, block in enumerate(self.blocks):
            merged = {**block, **overrides}
            if "backend" not in merged:
                merged["backend"] = list(default_backends)
            where = f"{self.name}: matrix block {index + 1}"
            axes = {k: v if isinstance(v, list) else [v] for k, v in merged.items()}
            for key, values in axes.items():
                if key not in SPEC_KEYS:
                    raise SpecError(
                        f"{where}: unknown key {key!r}; valid: {', '.join(sorted(SPEC_KEYS))}"
                    )
                if not values:
                    raise SpecError(f"{where}: {key} is an empty list")
            if math.prod(len(v) for v in axes.values()) + len(specs) > MAX_POINTS:
                raise SpecError(f"{where}: the matrix has more than {MAX_POINTS} points")
            keys = list(axes)
            for combo in itertools.product(*(axes[k] for k in keys)):
                spec = Spec.from_dict(dict(zip(keys, combo, strict=True)), where)
                if spec not in seen:
                    seen.add(spec)
                    specs.append(spec)
        # Repeats become points too: count them before anything expands them.
        if sum(s.repeats for s in specs) > MAX_POINTS:
            raise SpecError(f"{self.name}: with repeats the plan has more than {MAX_POINTS} points")
        return specs


def _held(block: Mapping[str, Any], key: str) -> list[Any]:
    """The values a matrix block holds for ``key`` (its default when absent), as a list."""
    value = block.get(key, Spec.__dataclass_fields__[key].default)
    return value if isinstance(value, list) else [value]


def _check_table(where: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: expected a table, got {type(value).__name__}")
    return value


def _rebase(block: dict[str, Any], base: Path) -> dict[str, Any]:
    """A block whose user-model files are relative to the suite file's folder ``base``."""
    block = dict(block)
    for key in ("model_path", "custom_objects"):
        value = block.get(key)
        values = value if isinstance(value, list) else [value]
        if value and all(isinstance(v, str) for v in values):
            rebased = [_rebased_path(v, base) for v in values]
            block[key] = rebased if isinstance(value, list) else rebased[0]
    return block


def _rebased_path(value: str, base: Path) -> str:
    """``m.keras`` or ``lib.py:fn`` under ``base``; a module reference stays as it is."""
    if not value:
        return value
    target, sep, func = value.rpartition(":")
    if sep and target.endswith(".py"):
        return f"{base / target}:{func}" if not Path(target).is_absolute() else value
    if sep and not value.endswith(".keras"):
        return value  # package.module:function, imported from sys.path
    return value if Path(value).is_absolute() else str(base / value)


def parse_suite(text: str, name: str, base_dir: Path | None = None) -> Suite:
    """Parse suite TOML; ``name`` (the file) prefixes every error; user-model paths are
    relative to ``base_dir`` (the suite file's folder) when given."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{name}: malformed TOML: {exc}") from None
    except RecursionError:
        raise SpecError(f"{name}: malformed TOML: nested too deeply") from None
    allowed = {"description", "defaults", "matrix"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SpecError(
            f"{name}: unknown top-level key {unknown[0]!r}; valid: {', '.join(sorted(allowed))}"
        )
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"{name}: description must be a string")
    defaults = _check_table(f"{name}: defaults", data.get("defaults", {}))
    matrix = data.get("matrix", [{}])
    if not isinstance(matrix, list) or not matrix:
        raise SpecError(f"{name}: matrix must be a non-empty array of tables ([[matrix]])")
    blocks = tuple(
        {**defaults, **_check_table(f"{name}: matrix block {i + 1}", b)}
        for i, b in enumerate(matrix)
    )
    if base_dir is not None:
        blocks = tuple(_rebase(b, base_dir) for b in blocks)
    suite = Suite(name=name, description=description, blocks=blocks, defaults=defaults)
    # Validate every key and value now, with a placeholder backend where none is named,
    # so that a typo fails before anything runs.
    suite.expand(default_backends=[next(iter(BACKENDS))])
    return suite


def suite_names() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def load_suite(name_or_path: str) -> Suite:
    """A built-in suite by name, or a suite file by path.

    An argument is a path only if it looks like one (a ``.toml`` suffix or a
    ``/``): a stray file called ``quick`` in the current folder never replaces
    the built-in suite of that name.
    """
    path = Path(name_or_path)
    if path.suffix == ".toml" or "/" in name_or_path or os.sep in name_or_path:
        try:
            # Only a regular file of sane size: never a device, a FIFO or a huge log.
            regular = path.is_file()
            size = path.stat().st_size if regular else 0
            text = path.read_text(encoding="utf-8") if regular and size <= MAX_SUITE_BYTES else ""
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SpecError(f"{name_or_path}: cannot read suite file: {exc}") from None
        if not regular:
            raise SpecError(f"{name_or_path}: no such suite file")
        if size > MAX_SUITE_BYTES:
            raise SpecError(f"{name_or_path}: larger than {MAX_SUITE_BYTES} bytes; not a suite")
        return parse_suite(text, str(path), path.resolve().parent)
    if name_or_path not in suite_names():
        raise SpecError(
            f"unknown suite {name_or_path!r}; valid: {', '.join(suite_names())} or a .toml path"
        )
    builtin = SUITES_DIR / f"{name_or_path}.toml"
    return parse_suite(builtin.read_text(encoding="utf-8"), name_or_path, SUITES_DIR)
