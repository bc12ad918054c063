"""Where a point's processes go: devices and hosts, on the orchestrator's side.

A point is data-parallel when ``devices`` (per host) or ``num_hosts`` is above
one. Each backend runs it on the engine its registry entry declares (see
``kerasbench.backends`` and ``kerasbench.worker.engines``); whether it can
run here is ``kerasbench.feasibility``'s question. This module says which
command starts it (a "torchrun" engine needs one process per device, started by
torch's own launcher) and reads the multi-host placement from the environment
variables that torchrun-style launch scripts and SLURM set.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kerasbench.backends import BACKENDS
from kerasbench.spec import Spec, SpecError

DEFAULT_PORT = 29500  # torch's customary MASTER_PORT, used when only a host is known


def uses_torchrun(spec: Spec) -> bool:
    """A "torchrun" engine (PyTorch) is one process per device, started by torchrun."""
    data_parallel = spec.devices > 1 or spec.num_hosts > 1
    return data_parallel and BACKENDS[spec.backend].data_parallel == "torchrun"


def worker_command(spec: Spec, spec_path: Path, result_path: Path) -> list[str]:
    """The command that starts a torch data-parallel worker group for ``spec``.

    ``kerasbench.worker.torchrun`` calls torch's own launcher
    (``torch.distributed.run``) in-process, so that a rendezvous that times out
    or a rank that dies still ends as a result file with the reason.
    """
    return [sys.executable, "-m", "kerasbench.worker.torchrun", str(spec_path), str(result_path)]


def _first_slurm_host(nodelist: str) -> str:
    """The first host of a SLURM hostlist ("node[03-05,9],gpu1" -> "node03")."""
    match = re.match(r"([^,\[]+)(?:\[([^\],]+))?", nodelist.strip())
    if not match:
        return ""
    prefix, ranges = match.group(1), match.group(2)
    return prefix + ranges.split("-")[0] if ranges else prefix


def _int_env(env: Mapping[str, str], name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise SpecError(f"{name}: expected an integer, got {env[name]!r}") from None


def placement_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """``num_hosts``, ``host_rank`` and ``coordinator`` from launcher variables, where set.

    torchrun-style scripts set MASTER_ADDR, MASTER_PORT, WORLD_SIZE and
    NODE_RANK (or GROUP_RANK, or RANK with one process per host); SLURM sets
    SLURM_NNODES, SLURM_NODEID and SLURM_JOB_NODELIST (the first node is host 0).
    kerasbench runs one ``kerasbench run`` per host, so these count hosts.
    Command-line flags override every value found here.
    """
    found: dict[str, Any] = {}
    if "MASTER_ADDR" in env and "WORLD_SIZE" in env:
        found["num_hosts"] = _int_env(env, "WORLD_SIZE")
        rank = next((n for n in ("NODE_RANK", "GROUP_RANK", "RANK") if n in env), None)
        found["host_rank"] = _int_env(env, rank) if rank else 0
        found["coordinator"] = f"{env['MASTER_ADDR']}:{env.get('MASTER_PORT', DEFAULT_PORT)}"
    elif "SLURM_NNODES" in env and "SLURM_NODEID" in env:
        found["num_hosts"] = _int_env(env, "SLURM_NNODES")
        found["host_rank"] = _int_env(env, "SLURM_NODEID")
        host = _first_slurm_host(env.get("SLURM_JOB_NODELIST", ""))
        if host:
            found["coordinator"] = f"{host}:{env.get('MASTER_PORT', DEFAULT_PORT)}"
    if found.get("num_hosts", 1) <= 1:
        return {}
    return found
