"""Worker process groups alive now: registered, killed on demand, and reaped without orphans.

Every worker runs in its own process group (session), so killing the group takes
its children too (torchrun's ranks, a data loader's workers). A process that
leaves the group (``setsid``, a daemon) escapes that; it still carries the
worker's ``KERASBENCH_POINT_ID`` in its environment, so on Linux a sweep of
``/proc`` finds and kills it as well.

A signal handler (see ``kerasbench.orchestrate.run``) calls ``request_stop``, which kills
every live worker at once; ``started`` kills a worker that was being started
while the stop was requested.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

POINT_ENV = "KERASBENCH_POINT_ID"
# How long a hung worker gets to write its stack dump (SIGUSR1) before it is killed.
DUMP_GRACE_S = 1.0

_live: dict[int, str] = {}  # process group id -> point token
_stop_signal: int | None = None


def new_token() -> str:
    """A token that marks every process of one point (set as POINT_ENV in its environment)."""
    return uuid.uuid4().hex


def started(pgid: int, token: str) -> None:
    """Register a worker's process group; kill it at once if a stop is already requested."""
    _live[pgid] = token
    if _stop_signal is not None:
        kill_group(pgid)


def reap(pgid: int, token: str) -> None:
    """Kill whatever is left of a finished worker: its group, then strays carrying its token."""
    kill_group(pgid)
    sweep(token)
    _live.pop(pgid, None)


def live_groups() -> list[int]:
    """Process groups of the workers running now."""
    return list(_live)


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def dump_stacks(pgid: int) -> None:
    """Ask a hung worker's processes for their Python stacks (faulthandler) before the kill."""
    kill_group(pgid, signal.SIGUSR1)
    time.sleep(DUMP_GRACE_S)


def sweep(token: str) -> list[int]:
    """SIGKILL every process whose environment carries ``token``; returns their pids."""
    marker = f"{POINT_ENV}={token}".encode()
    killed = []
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: the process group is all we have
        return killed
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's process
            continue
        if marker in environ.split(b"\0"):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                pass
    return killed


def describe_exit(returncode: int) -> str:
    """How a worker ended, in words ("killed by signal 9 (SIGKILL: ...)", "exited with code 3")."""
    if returncode >= 0:
        return f"exited with code {returncode}"
    signum = -returncode
    try:
        name = signal.Signals(signum).name
    except ValueError:
        return f"killed by signal {signum}"
    hint = {
        signal.SIGKILL: ": out of memory? the kernel's OOM killer sends it",
        signal.SIGSEGV: ": a crash in native code",
        signal.SIGABRT: ": an abort in native code",
        signal.SIGBUS: ": a crash in native code",
    }.get(signal.Signals(signum), "")
    return f"killed by signal {signum} ({name}{hint})"


def request_stop(signum: int) -> None:
    """Stop everything: remember why, and kill every live worker group now."""
    global _stop_signal
    _stop_signal = signum
    for pgid in list(_live):
        kill_group(pgid)


def stop_requested() -> int | None:
    """The signal that asked us to stop, or None."""
    return _stop_signal


def clear_stop() -> None:
    global _stop_signal
    _stop_signal = None
