"""The machine and software a result was measured on, read without importing a framework."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kerasbench import __version__
from kerasbench.backends import BACKENDS, backend_version, package_version


@dataclass(frozen=True)
class HostInfo:
    """Host, CPU, memory, GPUs and library versions."""

    hostname: str
    os: str
    cpu: str
    cpu_count: int
    memory_bytes: int | None
    gpus: list[str]
    python_version: str
    keras_version: str | None
    backend_versions: dict[str, str | None]
    kerasbench_version: str
    git_commit: str | None
    extra_versions: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cpus() -> int:
    """Cores this process may run on (respects taskset and cgroups' affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


@dataclass(frozen=True)
class CpuTimes:
    """The whole machine's CPU time since boot, all cores, in clock ticks (/proc/stat)."""

    steal: int  # time the hypervisor ran other guests while this one wanted the CPU
    total: int


def cpu_times() -> CpuTimes | None:
    """This machine's CPU times now; None where there is no /proc/stat (not Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal; guest time is already in user and nice.
    ticks = [int(v) for v in fields[1:9]]
    return CpuTimes(steal=ticks[7] if len(ticks) > 7 else 0, total=sum(ticks))


def steal_fraction(before: CpuTimes | None, after: CpuTimes | None) -> float | None:
    """Share of the machine's CPU time taken by the hypervisor between two readings.

    On a virtual machine whose host is oversubscribed, other tenants' work
    shows up here, and a benchmark running meanwhile is slowed by it; 0 on
    bare metal. None when either reading is missing or no time passed.
    """
    if before is None or after is None or after.total <= before.total:
        return None
    return max(0.0, (after.steal - before.steal) / (after.total - before.total))


def memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def gpus() -> list[str]:
    """NVIDIA GPUs as "name, memory" strings, from nvidia-smi when present."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def git_commit() -> str | None:
    """The commit of the kerasbench source tree, when it is a git checkout."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def collect() -> HostInfo:
    return HostInfo(
        hostname=socket.gethostname(),
        os=platform.platform(),
        cpu=cpu_model(),
        cpu_count=usable_cpus(),
        memory_bytes=memory_bytes(),
        gpus=gpus(),
        python_version=platform.python_version(),
        keras_version=package_version("keras"),
        backend_versions={name: backend_version(name) for name in BACKENDS},
        kerasbench_version=__version__,
        git_commit=git_commit(),
        extra_versions={"numpy": package_version("numpy")},
    )
