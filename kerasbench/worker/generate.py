"""The ``generate`` mode: greedy autoregressive decoding of a causal LM, timed per sequence.

One step of this mode is one whole generation for the batch: the prompt is the
first ``prompt_len`` tokens of a fixed-length buffer (the model's sequence
length), and the model writes the remaining ``new_tokens`` one at a time. Each
token is ``predict_on_batch`` of a compiled (tokens, position) -> next-token
model over the whole zero-padded buffer: fixed shapes, so it compiles on the
first token and never retraces; no KV cache, so every token costs a full
forward pass (documented in ``kerasbench.models.gpt_small``). Throughput is
``batch * new_tokens`` tokens per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kerasbench.spec import Spec


@dataclass(frozen=True)
class GeneratePlan:
    """Lengths of one generation: ``prompt_len + new_tokens`` is the model's sequence length."""

    prompt_len: int
    new_tokens: int

    @classmethod
    def for_length(cls, seq_len: int) -> GeneratePlan:
        """The documented default: the prompt is the first half, the model writes the rest."""
        prompt = max(1, seq_len // 2)
        return cls(prompt, seq_len - prompt)


def make_step(
    lm: Any, spec: Spec, prompts: np.ndarray, jit_compile: bool | str
) -> tuple[Callable[[int], Any], GeneratePlan]:
    """A step function for ``measure.time_step_loop`` and the plan it follows.

    ``prompts`` holds token rows (n, seq_len); step ``i`` takes the prompt of
    batch ``i`` (cycling) and returns when the last new token is on the host.
    """
    from kerasbench.models.gpt_small import generation_model

    generator = generation_model(lm)
    generator.compile(jit_compile=jit_compile)
    batch, seq_len = spec.batch_size, prompts.shape[1]
    plan = GeneratePlan.for_length(seq_len)
    n_prompts = len(prompts) // batch
    buffer = np.zeros((batch, seq_len), dtype=np.int32)
    position = np.zeros((batch,), dtype=np.int32)

    def step(i: int) -> np.ndarray:
        j = (i % n_prompts) * batch
        buffer[:] = 0
        buffer[:, : plan.prompt_len] = prompts[j : j + batch, : plan.prompt_len]
        for p in range(plan.prompt_len, seq_len):
            position[:] = p - 1  # the last token written; its logits give token p
            buffer[:, p] = generator.predict_on_batch([buffer, position])
        return buffer

    return step, plan
