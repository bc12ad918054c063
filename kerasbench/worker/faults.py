"""Deliberate worker failures, for testing the harness only (never set in real runs).

The variable ``KERASBENCH_DEBUG_FAULTS`` names a fault and, optionally, the seeds
of the points it hits; several entries are separated by ``;``::

    KERASBENCH_DEBUG_FAULTS="kill@3"          # the point with seed 3 is SIGKILLed
    KERASBENCH_DEBUG_FAULTS="crash@0,2;hang@5"
    KERASBENCH_DEBUG_FAULTS="segfault"        # every point

It does nothing unless that exact variable is set: the launcher passes it on to
the worker only when the caller has it, the runner warns on stderr while it is
active, and the worker says on stderr which fault it injects, so a stray
setting cannot pass for a real failure. The fault happens after the worker has
read its spec and before it imports a framework, so fault tests take a fraction
of a second per point.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

ENV_VAR = "KERASBENCH_DEBUG_FAULTS"
FAULTS = {
    "crash": "raise an exception (the worker reports status failed)",
    "exit3": "exit with code 3 without a result",
    "kill": "SIGKILL itself, as the kernel's out-of-memory killer would",
    "segfault": "dereference a null pointer (SIGSEGV)",
    "hang": "ignore SIGTERM and sleep forever (until the timeout)",
    "orphan": "start a child that ignores SIGTERM and sleeps, then exit without a result",
    "daemon": "like orphan, but the child leaves the process group (setsid)",
}


class FaultSpecError(ValueError):
    """A malformed KERASBENCH_DEBUG_FAULTS value."""


def parse(value: str) -> dict[str, set[int] | None]:
    """``{fault: seeds or None for every point}`` from a KERASBENCH_DEBUG_FAULTS value."""
    plan: dict[str, set[int] | None] = {}
    for entry in filter(None, (e.strip() for e in value.split(";"))):
        name, at, seeds = entry.partition("@")
        name = name.strip()
        if name not in FAULTS:
            raise FaultSpecError(f"{ENV_VAR}: unknown fault {name!r}; valid: {', '.join(FAULTS)}")
        if not at:
            plan[name] = None
            continue
        try:
            wanted = {int(s) for s in seeds.split(",")}
        except ValueError:
            raise FaultSpecError(f"{ENV_VAR}: {entry!r}: seeds must be integers") from None
        if name in plan and plan[name] is None:
            continue  # already every point
        plan[name] = (plan.get(name) or set()) | wanted
    return plan


def fault_for(seed: int, env: Mapping[str, str] | None = None) -> str | None:
    """The fault the point with ``seed`` is to suffer, or None (the normal case)."""
    value = (os.environ if env is None else env).get(ENV_VAR)
    if not value:
        return None
    for name, seeds in parse(value).items():
        if seeds is None or seed in seeds:
            return name
    return None


def _sleeper(new_session: bool) -> int:
    """Start a child that ignores SIGTERM and sleeps; returns its pid."""
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)"
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=new_session)
    return child.pid


def inject(seed: int) -> None:
    """Suffer the fault configured for this point, if any (see the module docstring)."""
    name = fault_for(seed)
    if name is None:
        return
    print(f"kerasbench worker: injecting fault {name!r} ({ENV_VAR})", file=sys.stderr, flush=True)
    if name == "crash":
        raise RuntimeError(f"injected fault 'crash' ({ENV_VAR})")
    if name == "exit3":
        os._exit(3)
    if name == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if name == "segfault":
        import ctypes

        ctypes.string_at(0)
    if name == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            time.sleep(3600)
    if name in ("orphan", "daemon"):
        pid = _sleeper(new_session=name == "daemon")
        print(f"kerasbench worker: started child pid {pid}", file=sys.stderr, flush=True)
        os._exit(4)
