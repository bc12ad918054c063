"""The model registry: one module per model, found by scanning this package.

Model modules import Keras inside ``build`` only, so that listing models or
validating a suite never imports a framework. A module may register several
entries that share one ``builder`` (a full model and its tiny variant): a
builder reads its sizes from the ``ModelInfo`` it is given, never from module
globals, and ``info.build(spec)`` calls it with ``info``.

Tiny variants are separate registry names (``bert_tiny``, ``vgg16_tiny``, ...),
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
    "bert_base",
    "gpt_small",
)
# What one sample is: an image (H, W, 3), a flat vector, a sequence of feature
# vectors (steps, features), or a sequence of int32 token ids (steps,).
INPUT_KINDS = ("image", "vector", "sequence", "tokens")
# What a label is: one class per sample, or (causal LMs) the next token at every position.
TARGETS = ("class", "next_token")


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

    def __post_init__(self) -> None:
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"{self.name}: input_kind {self.input_kind!r} not in {INPUT_KINDS}")
        if self.target not in TARGETS:
            raise ValueError(f"{self.name}: target {self.target!r} not in {TARGETS}")

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


def get_model(name: str) -> ModelInfo:
    """The model called ``name``; the error lists the valid names."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; valid: {', '.join(MODELS)}") from None
