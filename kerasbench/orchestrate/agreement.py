"""Do the backends agree? The same weights and batches, plain SGD, compared losses.

``kerasbench parity`` proves that the backends compute the same thing before
their speeds are compared. The first backend builds the model (seeded) and
saves its initial weights to an ``.npz`` file; every backend, each in its own
fresh worker process, loads those weights, disables dropout (rate 0: random
masks cannot match across backends), and runs ``steps`` SGD steps
(learning rate 0.01) on the same synthetic batches. Reported: each backend's
loss at every step and after the last step, and the largest relative
difference to the first backend.

Tolerance by precision (relative difference of any loss): float32 1e-4
(summation order and fused kernels differ; one step typically agrees to
~1e-6), mixed_bfloat16 5e-2 and mixed_float16 1e-2 (8 and 11 bit mantissas).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kerasbench.backends import BACKENDS
from kerasbench.data import synthetic
from kerasbench.models import get_model
from kerasbench.orchestrate.point import worker_env
from kerasbench.spec import Spec

KERAS3 = tuple(n for n, b in BACKENDS.items() if b.keras3_training)  # a Keras 3 training loop
TOLERANCE = {"float32": 1e-4, "mixed_float16": 1e-2, "mixed_bfloat16": 5e-2}
LEARNING_RATE = 0.01
TIMEOUT_S = 900.0


@dataclass
class ParityResult:
    """Losses of one model on every backend, and how far they are apart."""

    model: str
    precision: str
    steps: int
    losses: dict[str, list[float]] = field(default_factory=dict)  # backend -> steps + final
    errors: dict[str, str] = field(default_factory=dict)  # backend -> why it has no losses

    @property
    def tolerance(self) -> float:
        return TOLERANCE[self.precision]

    @property
    def reference(self) -> str | None:
        return next(iter(self.losses), None)

    def max_rel_diff(self) -> float:
        """Largest |loss - reference loss| / |reference loss| over backends and steps."""
        ref = self.reference
        if ref is None:
            return float("nan")
        base = np.asarray(self.losses[ref])
        worst = 0.0
        for values in self.losses.values():
            diff = np.abs(np.asarray(values) - base) / np.maximum(np.abs(base), 1e-12)
            worst = max(worst, float(diff.max()))
        return worst

    @property
    def ok(self) -> bool:
        return not self.errors and len(self.losses) >= 2 and self.max_rel_diff() <= self.tolerance


def run_parity(
    model: str, backends: list[str], steps: int = 3, precision: str = "float32", seed: int = 0
) -> ParityResult:
    """Run the parity check of ``model`` over ``backends`` (one worker process each)."""
    result = ParityResult(model, precision, steps)
    info = get_model(model)
    with tempfile.TemporaryDirectory(prefix="kerasbench-parity-") as tmp:
        tmpdir = Path(tmp)
        weights, batches = tmpdir / "weights.npz", tmpdir / "batches.npz"
        first = Spec(model=model, backend=backends[0], precision=precision, seed=seed).resolved()
        x, y = synthetic.make_arrays(info, first, steps)
        np.savez(batches, x=x, y=y)
        for index, backend in enumerate(backends):
            spec = Spec(model=model, backend=backend, precision=precision, seed=seed).resolved()
            job = {
                "spec": spec.to_dict(),
                "weights": str(weights),
                "batches": str(batches),
                "steps": steps,
                "learning_rate": LEARNING_RATE,
                "make_weights": index == 0,
            }
            out = _run_worker(spec, job, tmpdir / backend)
            if out.get("status") == "ok":
                result.losses[backend] = [*out["losses"], out["final_loss"]]
            else:
                result.errors[backend] = str(out.get("error"))
                if index == 0:  # no shared weights: the others cannot run
                    break
    return result


def _run_worker(spec: Spec, job: dict, workdir: Path) -> dict:
    workdir.mkdir()
    (workdir / "keras_home").mkdir()
    job_path, out_path = workdir / "job.json", workdir / "out.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    command = [sys.executable, "-m", "kerasbench.worker.parity", str(job_path), str(out_path)]
    try:
        proc = subprocess.run(
            command,
            env=worker_env(spec, workdir / "keras_home"),
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"no result within {TIMEOUT_S:g} s"}
    try:
        return json.loads(out_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tail = (proc.stderr or "").strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        return {"status": "failed", "error": f"worker gave no result: {tail[0][:300]}"}


def format_lines(result: ParityResult) -> list[str]:
    """Each backend's losses, then the verdict line."""
    backends = list(result.losses)
    lines = [f"{result.model} ({result.precision}, {result.steps} SGD steps, dropout off)"]
    if backends:
        lines.append(f"  {'step':<6}" + "".join(f"{b:>18}" for b in backends))
        for i in range(result.steps + 1):
            name = str(i + 1) if i < result.steps else "after"
            row = "".join(f"{result.losses[b][i]:>18.10f}" for b in backends)
            lines.append(f"  {name:<6}{row}")
    for backend, error in result.errors.items():
        lines.append(f"  {backend}: {error}")
    verdict = "ok" if result.ok else "FAILED"
    lines.append(
        f"  largest relative difference: {result.max_rel_diff():.2e} "
        f"(tolerance {result.tolerance:g}): {verdict}"
    )
    return lines
