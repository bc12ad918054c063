"""How gpu_check runs things: the kerasbench CLI and the bare loop, each in a subprocess.

Only kerasbench's stable interfaces are used: ``kerasbench run`` flags, a suite
file of Spec keys, and the records of ``kerasbench report --format json``. The
package is found from this checkout (PYTHONPATH), so an uninstalled tree works.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent  # benchmarks/gpu_check -> repository root
FRAMEWORKS = {"jax": "jax", "torch": "torch"}  # the backends a GPU host of this kind has


def installed_backends(names: tuple[str, ...] = tuple(FRAMEWORKS)) -> list[str]:
    """Backends whose framework and Keras import here (found, not imported)."""
    if importlib.util.find_spec("keras") is None:
        return []
    return [b for b in names if importlib.util.find_spec(FRAMEWORKS.get(b, b)) is not None]


def gpu_count() -> int:
    """GPUs this process may use: CUDA_VISIBLE_DEVICES, else nvidia-smi, else /dev/nvidiaN."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=False
            ).stdout
            return sum(1 for line in out.splitlines() if line.startswith("GPU "))
        except (OSError, subprocess.SubprocessError):
            pass
    return len(list(Path("/dev").glob("nvidia[0-9]*")))


@dataclass
class Workspace:
    """Where one gpu_check run keeps its store, suites, peak cache and logs."""

    root: Path
    device_kind: str  # "gpu" or "cpu"
    verbose: bool = False

    @property
    def db(self) -> Path:
        return self.root / "results.db"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        # A private peak cache: every matmul peak is measured in this run, on this machine
        # as it is now, never taken from an older (perhaps busier) run.
        env["KERASBENCH_CACHE"] = str(self.root / "peak_cache")
        env.pop("KERASBENCH_RESULTS", None)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return {**env, **(extra or {})}

    def log(self, name: str, proc: subprocess.CompletedProcess[str]) -> None:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        command = " ".join(map(str, proc.args))
        text = f"$ {command}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        (self.root / "logs" / f"{name}.log").write_text(text, encoding="utf-8")
        if self.verbose:
            print(text, file=sys.stderr)

    def kerasbench(self, name: str, *args: str, env: dict[str, str] | None = None) -> str:
        """Run ``python -m kerasbench ARGS``; returns stdout. A failed point is not an error."""
        proc = subprocess.run(
            [sys.executable, "-m", "kerasbench", *args],
            env=self.env(env),
            capture_output=True,
            text=True,
            check=False,
        )
        self.log(name, proc)
        if proc.returncode not in (0, 1):  # 1: a point failed, which the checks report
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"kerasbench {args[0]} exited {proc.returncode}: {tail[0]}")
        return proc.stdout

    def run_points(
        self,
        label: str,
        suite: dict[str, Any],
        backends: list[str],
        flags: list[str],
        env: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Run the points of ``suite`` (one [[matrix]] of Spec keys) and return their records."""
        path = self.root / "suites" / f"{label}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(suite_toml(label, suite), encoding="utf-8")
        self.kerasbench(
            label, "run", "--suite", str(path), "--backends", ",".join(backends),
            "--results", str(self.db), "--label", label, "--device-kind", self.device_kind,
            *flags, env=env,
        )  # fmt: skip
        out = self.kerasbench(
            f"{label}.report", "report", "--results", str(self.db), "--label", label,
            "--all", "--format", "json",
        )  # fmt: skip
        return json.loads(out)

    def bare_fit(
        self, name: str, backend: str, params: dict[str, Any], env: dict[str, str]
    ) -> dict[str, Any]:
        """The bare every-step-synchronised ``fit`` (bare_fit.py) in a fresh process."""
        extra = {"KERAS_BACKEND": backend, "KERAS_HOME": str(self.root / "keras_home" / name)}
        if self.device_kind == "cpu":  # hide accelerators as kerasbench's cpu points do
            extra.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
        proc = subprocess.run(
            [sys.executable, str(HERE / "bare_fit.py"), json.dumps(params)],
            env=self.env({**env, **extra}),
            capture_output=True,
            text=True,
            check=False,
        )
        self.log(name, proc)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"bare_fit {backend} exited {proc.returncode}: {tail}")
        return json.loads(lines[-1])


def suite_toml(label: str, suite: dict[str, Any]) -> str:
    """A suite file: scalars under [defaults], lists as the axes of one [[matrix]]."""

    def value(v: Any) -> str:
        return json.dumps(v) if not isinstance(v, bool) else str(v).lower()

    scalars = {k: v for k, v in suite.items() if not isinstance(v, list)}
    axes = {k: v for k, v in suite.items() if isinstance(v, list)}
    lines = [f'description = "gpu_check: {label}"', "", "[defaults]"]
    lines += [f"{k} = {value(v)}" for k, v in scalars.items()]
    lines += ["", "[[matrix]]"] + [f"{k} = [{', '.join(map(value, v))}]" for k, v in axes.items()]
    return "\n".join(lines) + "\n"


class Clock:
    """Wall time of the phases, against the run's budget."""

    def __init__(self, budget_s: float) -> None:
        self.start = time.perf_counter()
        self.budget_s = budget_s
        self.phases: list[tuple[str, float]] = []

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def over_budget(self) -> bool:
        return self.elapsed() > self.budget_s

    def done(self, phase: str, started: float) -> None:
        self.phases.append((phase, time.perf_counter() - started))
        print(f"  [{self.elapsed():6.1f} s] {phase}: {self.phases[-1][1]:.1f} s", flush=True)
