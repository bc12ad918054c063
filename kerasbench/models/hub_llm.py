"""Keras Hub causal language models (Gemma, Llama 3, Mistral) built from their classes.

Never ``from_preset`` (it downloads): each backbone is constructed with the published
configuration and random weights, wrapped in its ``*CausalLM`` task with
``preprocessor=None``, so it takes ``{"token_ids", "padding_mask"}`` (int32, (batch, length))
and returns logits at every position. The full sizes are for GPU suites (Gemma 7B is 8.5B
parameters: 34 GB in float32); the ``_tiny`` variants use the same classes with 2 small
layers for CPUs and tests.

``generate`` runs the task's own compiled, KV-cached sampler (greedy, no stop token):
prefill over the buffer, then one cached step per new token. ``time_generation`` times
it at two output lengths to separate time to first token from time per output token.
``enable_lora`` freezes the backbone and adds rank-``r`` adapters to the attention's
query and value projections, as keras.io's LLM fine-tuning benchmark does.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from kerasbench.models import ModelInfo, tiny_variant


def build(spec: Any, info: ModelInfo) -> Any:
    """The ``*CausalLM`` task for ``info`` with random weights and no preprocessor."""
    import keras_hub

    hp = info.hparams
    backbone = getattr(keras_hub.models, hp["backbone"])(**hp["config"])
    return getattr(keras_hub.models, hp["task"])(backbone=backbone, preprocessor=None)


def inputs(info: ModelInfo, spec: Any, batch_size: int, rng: np.random.Generator) -> dict:
    """A full batch of token ids below the vocabulary, every position real (padding_mask 1)."""
    length = info.seq_len(spec)
    assert info.vocab_size is not None
    return {
        "token_ids": rng.integers(0, info.vocab_size, (batch_size, length), dtype="int32"),
        "padding_mask": np.ones((batch_size, length), dtype="int32"),
    }


def prompt(
    info: ModelInfo, batch_size: int, prompt_len: int, length: int, rng: np.random.Generator
) -> dict:
    """A generation buffer of ``length`` positions whose first ``prompt_len`` hold the prompt."""
    assert info.vocab_size is not None and 0 < prompt_len < length
    token_ids = np.zeros((batch_size, length), dtype="int32")
    token_ids[:, :prompt_len] = rng.integers(0, info.vocab_size, (batch_size, prompt_len))
    padding_mask = np.zeros((batch_size, length), dtype="bool")
    padding_mask[:, :prompt_len] = True
    return {"token_ids": token_ids, "padding_mask": padding_mask}


def generate(lm: Any, buffer: dict) -> np.ndarray:
    """Fill ``buffer`` after its prompt with greedy tokens; the (batch, length) ids on the host.

    Fetching the ids to the host is the device sync that ends the timed region.
    """
    out = lm.generate(buffer, stop_token_ids=None)
    return np.asarray(out["token_ids"])


def time_generation(
    lm: Any,
    info: ModelInfo,
    batch_size: int,
    prompt_len: int,
    new_tokens: int,
    rng: np.random.Generator,
    repeats: int = 3,
) -> dict[str, float]:
    """Median seconds to the first token and per further token of the KV-cached sampler.

    Each output length compiles its own sampler, so each is warmed up once outside the
    timing. ``time_to_first_token_s`` is a generate call that writes one token (prefill +
    one step); ``time_per_output_token_s`` is the difference to a call writing
    ``new_tokens`` tokens, divided by ``new_tokens - 1``. The sampler prefills its whole
    buffer, so the longer call's prefill covers ``new_tokens - 1`` more positions: a small
    overestimate of the per-token time, stated here rather than hidden.
    """
    if new_tokens < 2:
        raise ValueError(f"new_tokens {new_tokens}: need at least 2 to separate the two times")
    first = prompt(info, batch_size, prompt_len, prompt_len + 1, rng)
    full = prompt(info, batch_size, prompt_len, prompt_len + new_tokens, rng)
    timings = {}
    for key, buffer in (("first", first), ("full", full)):
        generate(lm, buffer)  # compile and warm up this length's sampler
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            generate(lm, buffer)
            samples.append(time.perf_counter() - start)
        timings[key] = float(np.median(samples))
    per_token = max(timings["full"] - timings["first"], 0.0) / (new_tokens - 1)
    return {
        "time_to_first_token_s": timings["first"],
        "time_per_output_token_s": per_token,
        "generate_s": timings["full"],
        "tokens_per_s": batch_size * new_tokens / timings["full"],
    }


def enable_lora(lm: Any, rank: int = 4) -> int:
    """Freeze ``lm``'s backbone, add LoRA adapters of ``rank``; the trainable parameter count.

    An optimizer is built for the trainable variables it first sees, so a model compiled
    before this call is compiled again with a fresh optimizer of the same configuration.
    """
    lm.backbone.enable_lora(rank=rank)
    if getattr(lm, "compiled", False):
        optimizer = lm.optimizer.__class__.from_config(lm.optimizer.get_config())
        lm.compile(loss=lm.loss, optimizer=optimizer)
    return int(sum(np.prod(w.shape) for w in lm.trainable_weights))


def _lm(
    name: str, description: str, task: str, backbone: str, config: dict, **kw: Any
) -> ModelInfo:
    return ModelInfo(
        name=name,
        description=description,
        default_batch_size=kw.pop("batch", 8),
        input_kind="tokens",
        num_classes=config["vocabulary_size"],
        vocab_size=config["vocabulary_size"],
        default_seq_len=kw.pop("seq_len", 512),
        target="next_token",
        from_logits=True,
        hparams={"task": task, "backbone": backbone, "config": config},
        optimizer="adamw",
        make_inputs=inputs,
        builder=build,
    )


def _tiny(full: ModelInfo, name: str, **config: Any) -> ModelInfo:
    merged = {**full.hparams["config"], "vocabulary_size": 256, "num_layers": 2, **config}
    return tiny_variant(
        full,
        name,
        f"{full.name} classes at 2 layers, hidden {merged['hidden_dim']}, vocab 256, seq 32",
        num_classes=256,
        vocab_size=256,
        default_seq_len=32,
        hparams={**full.hparams, "config": merged},
    )


GEMMA_7B = _lm(
    "hub_gemma_7b",
    "Keras Hub GemmaCausalLM, Gemma 7B config (28 layers, hidden 3072, 16 heads), 8.5B params",
    "GemmaCausalLM",
    "GemmaBackbone",
    {
        "vocabulary_size": 256000,
        "num_layers": 28,
        "num_query_heads": 16,
        "num_key_value_heads": 16,
        "hidden_dim": 3072,
        "intermediate_dim": 49152,  # the class halves it: 24576 per gate
        "head_dim": 256,
    },
)
LLAMA3_8B = _lm(
    "hub_llama3_8b",
    "Keras Hub Llama3CausalLM, Llama 3 8B config (32 layers, hidden 4096, GQA 32/8), 8.0B params",
    "Llama3CausalLM",
    "Llama3Backbone",
    {
        "vocabulary_size": 128256,
        "num_layers": 32,
        "num_query_heads": 32,
        "num_key_value_heads": 8,
        "hidden_dim": 4096,
        "intermediate_dim": 14336,
        "rope_max_wavelength": 500000,
        "layer_norm_epsilon": 1e-5,
    },
)
MISTRAL_7B = _lm(
    "hub_mistral_7b",
    "Keras Hub MistralCausalLM, Mistral 7B config (32 layers, hidden 4096, GQA 32/8), 7.2B params",
    "MistralCausalLM",
    "MistralBackbone",
    {
        "vocabulary_size": 32000,
        "num_layers": 32,
        "num_query_heads": 32,
        "num_key_value_heads": 8,
        "hidden_dim": 4096,
        "intermediate_dim": 14336,
        "sliding_window": 4096,
        "layer_norm_epsilon": 1e-6,
    },
)
MODELS = (
    GEMMA_7B,
    LLAMA3_8B,
    MISTRAL_7B,
    _tiny(
        GEMMA_7B,
        "hub_gemma_tiny",
        num_query_heads=2,
        num_key_value_heads=1,
        hidden_dim=64,
        intermediate_dim=128,
        head_dim=32,
    ),
    _tiny(
        LLAMA3_8B,
        "hub_llama3_tiny",
        num_query_heads=4,
        num_key_value_heads=2,
        hidden_dim=64,
        intermediate_dim=128,
    ),
    _tiny(
        MISTRAL_7B,
        "hub_mistral_tiny",
        num_query_heads=4,
        num_key_value_heads=2,
        hidden_dim=64,
        intermediate_dim=128,
        sliding_window=16,
    ),
)
