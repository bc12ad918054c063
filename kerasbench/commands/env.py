"""``kerasbench env``: this host and its libraries, as a result records them."""

from __future__ import annotations

import argparse

from kerasbench.commands import EXIT_OK, console

HELP = "describe this host and its libraries"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``env`` takes no arguments."""


def main(args: argparse.Namespace) -> int:
    from rich.table import Table

    from kerasbench import envinfo

    host = envinfo.collect()
    table = Table("", "", show_header=False)
    gib = f"{host.memory_bytes / 2**30:.1f} GiB" if host.memory_bytes else "unknown"
    rows = [
        ("host", host.hostname),
        ("os", host.os),
        ("cpu", f"{host.cpu} ({host.cpu_count} usable cores)"),
        ("memory", gib),
        ("gpus", ", ".join(host.gpus) or "none"),
        ("python", host.python_version),
        ("keras", host.keras_version or "not installed"),
        *((b, v or "not installed") for b, v in host.backend_versions.items()),
        ("kerasbench", f"{host.kerasbench_version} ({host.git_commit or 'not a checkout'})"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    console().print(table)
    return EXIT_OK
