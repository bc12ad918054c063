"""The ``generate`` mode: a Keras Hub causal LM's own KV-cached sampler, timed per call.

One step of this mode is one whole ``generate`` call for the batch: a buffer of
``prompt_len + new_tokens`` positions whose first ``prompt_len`` hold a seeded prompt,
filled greedily by the task's compiled sampler (prefill, then one cached step per new
token; ``kerasbench.models.hub_llm.generate``). Throughput is ``batch * new_tokens``
tokens per step. After the timed windows, ``hub_llm.time_generation`` separates time
to first token from time per output token (two output lengths, medians of 3 calls).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kerasbench.models import ModelInfo
from kerasbench.spec import Spec


@dataclass(frozen=True)
class GeneratePlan:
    """Lengths of one generation: a prompt, then ``new_tokens`` written by the model."""

    prompt_len: int
    new_tokens: int

    @classmethod
    def of(cls, spec: Spec, seq_len: int) -> GeneratePlan:
        """``spec.prompt_len``/``new_tokens``, else the prompt is the first half of ``seq_len``
        and the model writes the rest."""
        prompt = spec.prompt_len or max(1, seq_len // 2)
        return cls(prompt, spec.new_tokens or max(2, seq_len - prompt))


def make_step(
    lm: Any, info: ModelInfo, spec: Spec
) -> tuple[Callable[[int], Any], GeneratePlan, Callable[[], dict[str, float]]]:
    """A step function for ``measure.time_step_loop``, its plan, and the TTFT/TPOT timer.

    Step ``i`` generates from prompt ``i`` (cycling over a few seeded prompts) and
    returns when the ids are on the host.
    """
    from kerasbench.models import hub_llm

    plan = GeneratePlan.of(spec, info.seq_len(spec))
    rng = np.random.default_rng(spec.seed)
    length = plan.prompt_len + plan.new_tokens
    buffers = [
        hub_llm.prompt(info, spec.batch_size, plan.prompt_len, length, rng) for _ in range(4)
    ]

    def step(i: int) -> np.ndarray:
        return hub_llm.generate(lm, buffers[i % len(buffers)])

    def latency() -> dict[str, float]:
        return hub_llm.time_generation(
            lm, info, spec.batch_size, plan.prompt_len, plan.new_tokens, rng
        )

    return step, plan, latency
