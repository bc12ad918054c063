"""The plan of a run: a suite, the selection and overrides asked for, and each point's verdict.

This is the orchestrator's first step, callable without argparse: ``plan``
takes a ``Request`` (what the user asked for) and returns every point with the
rule book's verdict. Flags are generated from Spec field metadata
(``flag_fields``), so a new axis needs no edit here.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kerasbench import backends, feasibility
from kerasbench.models import MODELS
from kerasbench.orchestrate.placement import placement_from_env
from kerasbench.spec import SPEC_KEYS, Spec, SpecError
from kerasbench.suite import Suite, load_suite

DEFAULT_SUITE = "quick"
TRAINING = ("fit", "train_on_batch")  # modes whose work includes the optimizer
# Where a multi-host run finds its shared rendezvous secret (kerasbench/worker/rendezvous.py).
SECRET_VARS = ("KERASBENCH_RENDEZVOUS_SECRET", "KERASBENCH_RENDEZVOUS_SECRET_FILE")


@dataclass(frozen=True)
class FlagField:
    """A Spec field exposed as a ``run`` flag (from the field's metadata)."""

    key: str  # the Spec field
    flag: str  # e.g. --batch-size
    kind: str  # csv, csv_int, int, float, str, switch, onoff, choice
    help: str
    metavar: str

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def flag_fields() -> list[FlagField]:
    """Every Spec field that ``run`` exposes as an override flag, in field order."""
    found = []
    for f in dataclasses.fields(Spec):
        if "kind" in f.metadata:
            name = f.metadata["flag"] or "--" + f.name.replace("_", "-")
            meta = f.metadata
            found.append(FlagField(f.name, name, meta["kind"], meta["help"], meta["metavar"]))
    return found


@dataclass(frozen=True)
class Request:
    """What the user asked for: a suite, a selection, and overrides of Spec keys."""

    suite: str | None = None
    models: Sequence[str] | None = None
    modes: Sequence[str] | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)  # Spec key -> value or list


@dataclass(frozen=True)
class Plan:
    """The suite and every planned point with its verdict (skipped points stay visible)."""

    suite: Suite
    points: list[tuple[Spec, feasibility.Verdict]]

    @property
    def specs(self) -> list[Spec]:
        return [spec for spec, _ in self.points]


def check_value(key: str, value: Any, where: str) -> None:
    """Validate one value of Spec key ``key`` on its own, so a bad flag is named as such."""
    if key not in SPEC_KEYS:
        raise SpecError(f"{where}: unknown key {key!r}; valid: {', '.join(sorted(SPEC_KEYS))}")
    base: dict[str, Any] = {
        "model": _model_accepting(key),
        "backend": next(iter(backends.BACKENDS)),
    }
    if key in ("num_hosts", "host_rank", "coordinator"):  # checked together in Spec
        base.update(num_hosts=1024, coordinator="localhost:1")
    if key == "model_path":
        base["model"] = "user:model"
    try:
        Spec(**{**base, key: value})
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None


def _model_accepting(key: str) -> str:
    """A model for which a value of ``key`` can make sense, to check the value on its own."""
    if key == "image_size":
        return next(n for n, m in MODELS.items() if m.input_kind == "image")
    if key == "seq_len":
        return next(n for n, m in MODELS.items() if m.causal_lm)
    return next(iter(MODELS))


def check_request(request: Request) -> None:
    """Each flag value on its own first, so that an error names the flag."""
    flags = {f.key: f.flag for f in flag_fields()}
    checks = [(k, v, flags.get(k, k)) for k, v in request.overrides.items()]
    checks += [("model", m, "--models") for m in request.models or ()]
    checks += [("mode", m, "--modes") for m in request.modes or ()]
    for key, value, flag in checks:
        for item in value if isinstance(value, list) else [value]:
            check_value(key, item, flag)


def plan(request: Request, gpus: int, env: Mapping[str, str] | None = None) -> Plan:
    """Every point the request names, resolved, with its verdict on a host with ``gpus`` GPUs.

    Raises SpecError on bad input. ``--models`` and ``--modes`` select from the
    suite (every wanted combination, see ``Suite.select``); every other flag
    overrides its key in every block.
    """
    env = os.environ if env is None else env
    check_request(request)
    overrides = dict(request.overrides)
    suite = _user_suite(request)
    if suite is not None:  # every block runs the user's model: --modes sets the modes
        if request.models is not None:
            raise SpecError("--models and --model-path: name the zoo's models or yours")
        if request.modes is not None:
            modes = list(request.modes)
            suite = dataclasses.replace(
                suite, blocks=tuple({**b, "mode": modes} for b in suite.blocks)
            )
    else:
        suite = load_suite(request.suite or DEFAULT_SUITE)
        if request.models is not None:
            suite = suite.select("model", list(request.models))
        if request.modes is not None:
            suite = suite.select("mode", list(request.modes))
    if "steps" in overrides and "target_ci" not in overrides:
        overrides["target_ci"] = 0.0  # --steps alone asks for exactly that many steps
    if "num_hosts" not in overrides:  # torchrun's and SLURM's variables, where set
        for key, value in placement_from_env(env).items():
            overrides.setdefault(key, value)
    specs = suite.expand(overrides, default_backends=backends.installed_backends())
    host = feasibility.Host(gpus)
    resolved = [s.resolved() for s in specs]
    points = [(s, feasibility.check(s, host)) for s in resolved]
    if "backend" not in overrides:
        # Installed backends the user did not name join only the points they can run:
        # an inference-only backend joins the predict points.
        points = [(s, v) for s, v in points if v.rule != "inference-only"]
    points = _resolve_user_models(_resolve_paths(points))
    _check_rendezvous_secret([s for s, v in points if v.runnable], env)
    _check_named_envs(specs)
    return Plan(suite, points)


def _check_named_envs(specs: list[Spec]) -> None:
    """Every named environment the plan uses exists (EnvError names the missing one), and
    runs a Keras 3 backend (a legacy backend has its own `kerasbench setup` environment)."""
    from kerasbench.envs import named

    for spec in specs:
        if spec.env and backends.BACKENDS[spec.backend].legacy:
            raise SpecError(f"env: backend {spec.backend} runs in its own `kerasbench setup` env")
    for name in sorted({s.env for s in specs if s.env}):
        named.get(name)


def _user_suite(request: Request) -> Suite | None:
    """With ``--model-path``: the suite's blocks (or one empty block, without ``--suite``)
    with their own models left out, so that every point runs the user's model."""
    if "model_path" not in request.overrides:
        return None
    if request.suite is None:
        return Suite("model-path", "your own model", ({},))
    suite = load_suite(request.suite)
    blocks = tuple({k: v for k, v in b.items() if k != "model"} for b in suite.blocks)
    return dataclasses.replace(suite, blocks=blocks)


def _resolve_user_models(
    points: list[tuple[Spec, feasibility.Verdict]],
) -> list[tuple[Spec, feasibility.Verdict]]:
    """Runnable user-model points, checked before any worker starts (``UserModelError``:
    exit 2), with their files made absolute (workers run elsewhere)."""
    from kerasbench.usermodel.precheck import absolute, check_model

    checked = set()
    resolved = []
    for s, verdict in points:
        if s.model_path and verdict.runnable:
            key = (s.model_path, s.trust_model_code, s.custom_objects, s.model_args, s.input_shapes)
            if key not in checked:
                checked.add(key)
                check_model(*key)
            s = dataclasses.replace(
                s, model_path=absolute(s.model_path), custom_objects=absolute(s.custom_objects)
            )
        resolved.append((s, verdict))
    return resolved


def _resolve_paths(
    points: list[tuple[Spec, feasibility.Verdict]],
) -> list[tuple[Spec, feasibility.Verdict]]:
    """Runnable points with their dataset paths made absolute (workers run elsewhere)."""
    from kerasbench.data import resolve_data_paths

    resolved = []
    for spec, verdict in points:
        if verdict.runnable:
            (spec,) = resolve_data_paths([spec])
        resolved.append((spec, verdict))
    return resolved


def _check_rendezvous_secret(specs: list[Spec], env: Mapping[str, str]) -> None:
    """A multi-host point meets over the network: refuse it without a shared secret."""
    if any(v in env for v in SECRET_VARS):
        return
    if any(s.num_hosts > 1 and not s.insecure_rendezvous for s in specs):
        raise SpecError(
            f"num_hosts: a multi-host run needs a shared secret in {SECRET_VARS[0]} or "
            f"{SECRET_VARS[1]} on every host (or --insecure-rendezvous on a trusted network)"
        )


def describe(spec: Spec, verdict: feasibility.Verdict | None = None) -> str:
    """One line for ``run --dry-run``: the point's settings and, when given, its verdict."""
    line = (
        f"{spec.model} {spec.backend} {spec.mode} batch={spec.batch_size} steps={spec.steps} "
        f"warmup={spec.warmup} {spec.precision} {spec.data_format} devices={spec.devices}"
        + (f" host={spec.host_rank}/{spec.num_hosts}" if spec.num_hosts > 1 else "")
        + (f" seq_len={spec.seq_len}" if spec.seq_len else "")
        + (f" env={spec.env}" if spec.env else "")
        + (f" round={spec.repeat}" if spec.repeats > 1 else "")
        + (f" compile={spec.compile}" if spec.compile != "auto" else "")
        + (f" optimizer={spec.optimizer}" if spec.optimizer and spec.mode in TRAINING else "")
        + (f" lora_rank={spec.lora_rank}" if spec.lora_rank else "")
    )
    return f"{line}  -> {verdict.describe()}" if verdict is not None else line
