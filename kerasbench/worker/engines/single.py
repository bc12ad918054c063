"""The single-device engine: Keras' own modes on one device, fed arrays or a pipeline."""

from __future__ import annotations

from typing import Any

from kerasbench.data import synthetic
from kerasbench.models import ModelInfo
from kerasbench.worker import generate, inputs, measure
from kerasbench.worker.engines import (
    Engine,
    Measured,
    PointData,
    compile_model,
    jit_arg,
)


class SingleDeviceEngine(Engine):
    """One process, one device: ``train_on_batch``, ``fit``, ``predict``, ``generate``,
    and the pipeline modes (a real dataset, ``--input`` loaders, ``input_only``)."""

    def load(self, info: ModelInfo) -> PointData:
        spec = self.spec
        n_distinct = synthetic.distinct_batches(info, spec, measure.total_steps(spec))
        if inputs.uses_pipeline(spec):  # a real dataset, a loader, or input_only
            fed = inputs.open_input(info, spec)
            return PointData(fed.info, n_distinct, fed=fed)  # a text file brings its vocabulary
        x, y = synthetic.make_arrays(info, spec, n_distinct)
        return PointData(info, n_distinct, x, y)

    def build(self, info: ModelInfo) -> Any:
        if self.spec.mode == "input_only":
            return None
        model = info.build(self.spec)
        compile_model(model, info, self.spec)
        return model

    def measure(self, model: Any, data: PointData, started: float) -> Measured:
        spec = self.spec
        if data.fed is not None:
            timing = inputs.time_mode(model, data.fed, spec, started)
            return Measured(timing, timing.window_times_s, settings=dict(data.fed.settings))
        x, y, n_distinct = data.x, data.y, data.n_distinct
        if spec.mode == "train_on_batch":
            losses: list[float] = []  # the loss of every step, host values already

            def step(i: int) -> Any:
                j = (i % n_distinct) * spec.batch_size
                loss = model.train_on_batch(x[j : j + spec.batch_size], y[j : j + spec.batch_size])
                losses.append(float(loss))
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
            step, plan = generate.make_step(model, spec, x, jit_arg(spec.jit_compile))
            timing = measure.time_step_loop(step, spec, started)
            decoding = {
                "prompt_len": plan.prompt_len,
                "new_tokens": plan.new_tokens,
                "decoding": "greedy, no KV cache, fixed-length buffer",
            }
            # Throughput of generate is counted in new tokens, not samples.
            items = spec.batch_size * plan.new_tokens
            return Measured(timing, timing.window_times_s, [], items, "tokens/s", decoding)
        raise ValueError(f"unknown mode {spec.mode!r}")  # Spec validation makes this unreachable
