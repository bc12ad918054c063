"""The single-device engine: Keras' own modes on one device, fed arrays or a pipeline.

A zoo model is fed ``kerasbench.data.synthetic`` arrays; a Keras Hub task its module's
``make_inputs`` (dicts of token ids and masks, images with prompts); a user's model
inputs made from its own signature once it is built (``kerasbench.worker.usermodels``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasbench.data import synthetic
from kerasbench.models import ModelInfo
from kerasbench.worker import generate, inputs, measure, usermodels
from kerasbench.worker.engines import (
    Engine,
    Measured,
    PointData,
    compile_model,
)


class SingleDeviceEngine(Engine):
    """One process, one device: ``train_on_batch``, ``fit``, ``predict``, ``generate``,
    and the pipeline modes (a real dataset, ``--input`` loaders, ``input_only``)."""

    record: dict[str, Any]
    extra_settings: dict[str, Any]

    def load(self, info: ModelInfo) -> PointData:
        spec = self.spec
        self.record, self.extra_settings = {}, {}
        if info.user:  # the model's own signature shapes its inputs: made in build
            self.data = PointData(info, 1)
            return self.data
        n_distinct = synthetic.distinct_batches(info, spec, measure.total_steps(spec))
        if inputs.uses_pipeline(spec):  # a real dataset, a loader, or input_only
            fed = inputs.open_input(info, spec)
            return PointData(fed.info, n_distinct, fed=fed)  # a text file brings its vocabulary
        if info.make_inputs is not None:
            rng = np.random.default_rng(spec.seed)
            n = n_distinct * spec.batch_size
            x = info.make_inputs(info, spec, n, rng)
            y = rng.integers(0, info.num_classes, (n, *info.label_shape(spec)), dtype="int32")
            return PointData(info, n_distinct, x, y)
        x, y = synthetic.make_arrays(info, spec, n_distinct)
        return PointData(info, n_distinct, x, y)

    def build(self, info: ModelInfo) -> Any:
        spec = self.spec
        if spec.mode == "input_only":
            return None
        if info.user:
            built = usermodels.build(spec)
            self.record.update(built.record)
            self.extra_settings.update(built.settings)
            n_distinct = min(measure.total_steps(spec), 8)
            x, y = usermodels.arrays(built.model, spec, n_distinct * spec.batch_size)
            self.data.x, self.data.y, self.data.n_distinct = x, y, n_distinct
            return built.model
        model = info.build(spec)
        if spec.lora_rank:
            from kerasbench.models import hub_llm

            self.record["trainable_params"] = hub_llm.enable_lora(model, spec.lora_rank)
            self.extra_settings["lora_rank"] = spec.lora_rank
        compile_model(model, info, spec)
        return model

    def settings(self) -> dict[str, Any]:
        return dict(getattr(self, "extra_settings", {}))

    def measure(self, model: Any, data: PointData, started: float) -> Measured:
        measured = self._measure(model, data, started)
        measured.record.update(self.record)
        return measured

    def _measure(self, model: Any, data: PointData, started: float) -> Measured:
        spec = self.spec
        if data.fed is not None:
            timing = inputs.time_mode(model, data.fed, spec, started)
            return Measured(timing, timing.window_times_s, settings=dict(data.fed.settings))
        x, y, n_distinct = data.x, data.y, data.n_distinct
        if spec.mode == "train_on_batch":
            losses: list[float] = []  # the loss of every step, host values already
            b = spec.batch_size

            def step(i: int) -> Any:
                j = (i % n_distinct) * b
                loss = model.train_on_batch(measure.take(x, j, j + b), measure.take(y, j, j + b))
                losses.append(float(np.asarray(loss).ravel()[0]))
                return loss

            timing = measure.time_step_loop(step, spec, started)
            return Measured(timing, timing.window_times_s, losses)
        if spec.mode == "fit":
            timing = measure.time_fit(model, x, y, spec, started)
            return Measured(timing, timing.window_times_s)
        if spec.mode == "predict":
            timing = measure.time_predict(model, x, spec, started)
            return Measured(timing, timing.window_times_s)
        if spec.mode == "generate":
            return self._generate(model, data, started)
        raise ValueError(f"unknown mode {spec.mode!r}")  # Spec validation makes this unreachable

    def _generate(self, model: Any, data: PointData, started: float) -> Measured:
        spec = self.spec
        step, plan, latency = generate.make_step(model, data.info, spec)
        timing = measure.time_step_loop(step, spec, started)
        times = latency()  # after the timed windows: TTFT and TPOT (their own compiles)
        decoding = {
            "prompt_len": plan.prompt_len,
            "new_tokens": plan.new_tokens,
            "decoding": "greedy, Keras Hub's KV-cached sampler",
        }
        record = {
            "time_to_first_token_s": times["time_to_first_token_s"],
            "time_per_output_token_s": times["time_per_output_token_s"],
        }
        # Throughput of generate is counted in new tokens, not samples.
        items = spec.batch_size * plan.new_tokens
        return Measured(
            timing, timing.window_times_s, [], items, "tokens/s", decoding, record=record
        )
