"""The model registry: one module per model, found by scanning this package.

Model modules import Keras inside ``build`` only, so that listing models or
validating a suite never imports a framework. A module may register several
entries that share one ``builder`` (a full model and its tiny variant): a
builder reads its sizes from the ``ModelInfo`` it is given, never from module
globals, and ``info.build(spec)`` calls it with ``info``.

Tiny variants are separate registry names (``hub_bert_tiny``, ``vgg16_tiny``, ...),
each naming the full model in ``tiny_of``: a result's model name then says
exactly what ran, and no extra Spec field is needed.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kerasbench.spec import Spec

# The order `kerasbench list models` shows (the seed's models first); a module not
# named here follows, by name.
ORDER = (
    "resnet50",
    "cifar10_cnn",
    "mnist_mlp",
    "mlp_nodropout",
    "vgg16",
    "xception",
    "mobilenet_v2",
    "efficientnet_b0",
    "lstm",
    "gru",
    "lstm_text",
    "hub_bert",
    "hub_llm",
    "hub_sam",
)
# What one sample is: an image (H, W, 3), a flat vector, a sequence of feature
# vectors (steps, features), or a sequence of int32 token ids (steps,).
INPUT_KINDS = ("image", "vector", "sequence", "tokens")
# What a label is: one class per sample, or (causal LMs) the next token at every position.
TARGETS = ("class", "next_token")
# Optimizers a point can train with (``--optimizer``); "momentum" is SGD with momentum 0.9.
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam", "adamw")
# The name of a user's own model: ``user:`` and a label (``--model-path``; kerasbench.usermodel).
USER_PREFIX = "user:"


@dataclass(frozen=True)
class ModelInfo:
    """What the harness needs to know about a model without building it."""

    name: str
    description: str
    default_batch_size: int
    input_kind: str  # one of INPUT_KINDS
    num_classes: int  # classes of the output layer (the vocabulary for a causal LM)
    builder: Callable[[Spec, ModelInfo], Any]  # (spec, this info) -> uncompiled keras.Model
    default_image_size: int | None = None  # image models only
    min_image_size: int = 32  # the smallest image the architecture accepts
    vector_size: int | None = None  # vector models; features per step of sequence models
    default_seq_len: int | None = None  # sequence and token models
    vocab_size: int | None = None  # token models: ids are in [0, vocab_size)
    target: str = "class"  # one of TARGETS
    from_logits: bool = False  # the output layer gives logits, not probabilities
    hparams: Mapping[str, Any] = field(default_factory=dict, hash=False)  # sizes for build
    tiny_of: str | None = None  # the full model this is a tiny variant of
    # the optimizer of the model's reference training (one of OPTIMIZERS; ``--optimizer``
    # overrides it): what a user of this model trains with, so what is measured
    optimizer: str = "sgd"
    # (info, spec, batch_size, numpy Generator) -> the model's inputs for a batch (a dict
    # for Keras Hub tasks); None: arrays of ``input_shape`` (kerasbench.data.synthetic)
    make_inputs: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    # modes this model cannot run, with the reason (a feasibility rule skips them)
    skip_modes: Mapping[str, str] = field(default_factory=dict, hash=False)
    user: bool = False  # a user's own model (``user:`` names): inputs come from the model

    def __post_init__(self) -> None:
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"{self.name}: input_kind {self.input_kind!r} not in {INPUT_KINDS}")
        if self.target not in TARGETS:
            raise ValueError(f"{self.name}: target {self.target!r} not in {TARGETS}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"{self.name}: optimizer {self.optimizer!r} not in {OPTIMIZERS}")

    def build(self, spec: Spec) -> Any:
        """The uncompiled keras.Model for ``spec`` (imports Keras)."""
        return self.builder(spec, self)

    @property
    def takes_sequences(self) -> bool:
        """Whether ``seq_len`` means something for this model."""
        return self.input_kind in ("sequence", "tokens")

    @property
    def causal_lm(self) -> bool:
        """A causal language model: it can ``generate`` tokens one after another."""
        return self.target == "next_token"

    @property
    def input_dtype(self) -> str:
        return "int32" if self.input_kind == "tokens" else "float32"

    def seq_len(self, spec: Spec) -> int:
        """Steps per sample: ``spec.seq_len`` or the model's default."""
        value = getattr(spec, "seq_len", 0) or self.default_seq_len
        assert value is not None, f"{self.name} takes no sequences"
        return value

    def input_shape(self, spec: Spec) -> tuple[int, ...]:
        """Shape of one sample as the model receives it (no batch axis)."""
        if self.input_kind == "image":
            size = spec.image_size or self.default_image_size
            assert size is not None
            if spec.data_format == "channels_first":
                return (3, size, size)
            return (size, size, 3)
        if self.input_kind == "sequence":
            assert self.vector_size is not None
            return (self.seq_len(spec), self.vector_size)
        if self.input_kind == "tokens":
            return (self.seq_len(spec),)
        assert self.vector_size is not None
        return (self.vector_size,)

    def label_shape(self, spec: Spec) -> tuple[int, ...]:
        """Shape of one sample's label (sparse class ids): () or (seq_len,) for LMs."""
        return (self.seq_len(spec),) if self.target == "next_token" else ()

    def output_bytes(self, spec: Spec) -> int:
        """Bytes of one sample's float32 output (what ``predict`` keeps on the host)."""
        per_position = 4 * self.num_classes
        return per_position * self.seq_len(spec) if self.target == "next_token" else per_position

    def make_loss(self) -> Any:
        """The Keras loss this model trains with (imports Keras)."""
        import keras

        return keras.losses.SparseCategoricalCrossentropy(from_logits=self.from_logits)

    @property
    def loss_name(self) -> str:
        suffix = "(from_logits=True)" if self.from_logits else ""
        return f"sparse_categorical_crossentropy{suffix}"

    def describe_input(self) -> str:
        """One line for ``kerasbench list models``: the default input of one sample."""
        if self.input_kind == "image":
            size = self.default_image_size
            return f"image {size}x{size}x3"
        if self.input_kind == "vector":
            return f"vector {self.vector_size}"
        if self.input_kind == "sequence":
            return f"sequence {self.default_seq_len}x{self.vector_size}"
        return f"tokens {self.default_seq_len} (vocab {self.vocab_size})"

    def describe_output(self) -> str:
        if self.target == "next_token":
            return f"next token x{self.default_seq_len}"
        return f"{self.num_classes} classes"


def tiny_variant(info: ModelInfo, name: str, description: str, **changes: Any) -> ModelInfo:
    """A small copy of ``info`` for tests: same builder, smaller sizes, batch 2 by default."""
    return dataclasses.replace(
        info,
        name=name,
        description=description,
        tiny_of=info.name,
        **{"default_batch_size": 2, **changes},
    )


def _registry() -> dict[str, ModelInfo]:
    """Every ``MODELS`` entry of every public module of this package.

    Adding a model is adding one file that defines ``build(spec, info)`` and
    ``MODELS = (...)``; modules whose name starts with ``_`` are shared helpers.
    Full models come first, then the tiny variants, each group in the order of
    ``ORDER`` and then by module name.
    """
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    names.sort(key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))
    infos = []
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        entries = getattr(module, "MODELS", None)
        if not isinstance(entries, tuple) or not all(isinstance(m, ModelInfo) for m in entries):
            raise TypeError(f"{module.__name__}: MODELS must be a tuple of ModelInfo")
        infos.extend(entries)
    registry: dict[str, ModelInfo] = {}
    for info in sorted(infos, key=lambda m: m.tiny_of is not None):
        if info.name in registry:
            raise ValueError(f"model {info.name!r} is registered twice")
        registry[info.name] = info
    return registry


MODELS: dict[str, ModelInfo] = _registry()


# A user's model as the rule book and the planner see it before a worker loads it: its
# inputs, outputs and optimizer come from the model itself (kerasbench.usermodel).
USER_MODEL = ModelInfo(
    name="user:",
    description="your own model: --model-path FILE.keras | FILE.py:FUNCTION | MODULE:FUNCTION",
    default_batch_size=32,
    input_kind="vector",
    num_classes=0,
    builder=lambda spec, info: None,  # the worker loads it (kerasbench.worker.usermodels)
    user=True,
)


def user_label(path: str) -> str:
    """The model name of the user's model at ``path``: ``user:`` and the file's stem, or for
    ``FILE.py:fn`` / ``pkg.mod:fn`` the module's last part and the function, e.g. ``user:m.fn``."""
    target, sep, func = path.rpartition(":")
    if sep and not target.endswith(".keras") and "/" not in func:
        module = target[:-3] if target.endswith(".py") else target
        stem = module.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[-1]
        return f"{USER_PREFIX}{stem}.{func}"
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return USER_PREFIX + (name[: -len(".keras")] if name.endswith(".keras") else name)


def is_user_model(name: str) -> bool:
    return isinstance(name, str) and name.startswith(USER_PREFIX) and len(name) > len(USER_PREFIX)


def get_model(name: str) -> ModelInfo:
    """The model called ``name`` (a ``user:`` name gets ``USER_MODEL``); the error lists the
    valid names."""
    if is_user_model(name):
        return dataclasses.replace(USER_MODEL, name=name)
    try:
        return MODELS[name]
    except KeyError:
        valid = ", ".join([*MODELS, "user:NAME with --model-path"])
        raise KeyError(f"unknown model {name!r}; valid: {valid}") from None
