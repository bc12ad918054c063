"""The one factory for test records: Specs and Results as the worker and store make them.

Every test that needs a Spec or a Result builds it here, so that a change to the
records' shape is one edit, not one per test file.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Any

from kerasbench.result import Result
from kerasbench.spec import Spec

_SPEC_FIELDS = {f.name for f in dataclasses.fields(Spec)}


def make_spec(model: str = "mnist_mlp", backend: str = "jax", **kw: Any) -> Spec:
    """A resolved Spec (model defaults filled in), as a planned point has."""
    return Spec(model=model, backend=backend, **kw).resolved()


def make_result(
    speed: float | None = None,
    *,
    step_s: float | None = None,
    windows: Sequence[float] | None = None,
    n: int = 3,
    sd: float = 0.0,
    seed: int = 0,
    status: str = "ok",
    raw: dict[str, Any] | None = None,
    **kw: Any,
) -> Result:
    """A Result as ``Result.from_worker`` builds it from a worker's raw measurement.

    Give the speed as ``speed`` (samples/s), ``step_s`` (seconds a step) or the raw
    ``windows``; ``n`` windows are drawn with relative spread ``sd`` from ``seed``.
    Keywords naming Spec fields go to the Spec (``model``, ``backend``, ``seed`` is the
    noise seed, so pass ``spec_seed`` for the Spec's); the rest to the Result
    (``run_id``, ``repeat``, ``label`` goes to the Spec).
    """
    spec_kw = {k: v for k, v in kw.items() if k in _SPEC_FIELDS}
    if "spec_seed" in kw:
        spec_kw["seed"] = kw["spec_seed"]
    extra = {k: v for k, v in kw.items() if k not in _SPEC_FIELDS and k != "spec_seed"}
    spec = make_spec(**spec_kw)
    body: dict[str, Any] = {"status": status, **(raw or {})}
    if status == "ok" and "window_times_s" not in body:
        body["window_times_s"] = list(windows or _windows(spec, speed, step_s, n, sd, seed))
    body.setdefault("time_to_first_step_s", 1.0)
    return Result.from_worker(spec, body, **extra)


def _windows(
    spec: Spec, speed: float | None, step_s: float | None, n: int, sd: float, seed: int
) -> list[float]:
    if step_s is None:
        step_s = spec.batch_size / (speed if speed is not None else 1000.0)
    rng = random.Random(seed)
    return [spec.window_steps * rng.gauss(step_s, sd * step_s) for _ in range(n)]
