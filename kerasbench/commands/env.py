"""``kerasbench env``: this host and its libraries; ``env create|list|remove``: named envs.

``kerasbench env`` alone describes this host as a result records it. The named
environments (kerasbench.envs.named) are venvs with chosen package versions that
``run --env a,b`` runs points in, as an axis like a backend.
"""

from __future__ import annotations

import argparse

from kerasbench.commands import EXIT_OK, console

HELP = "describe this host and its libraries; create, list or remove named environments"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="env_command", metavar="{create,list,remove}")
    create = sub.add_parser("create", help="make a venv with chosen packages, for run --env")
    create.add_argument("name", metavar="NAME")
    create.add_argument(
        "--pip", nargs="+", required=True, metavar="SPEC", help="e.g. 'keras==3.10.0' 'jax==0.6.*'"
    )
    create.add_argument("--python", metavar="PATH", help="its interpreter (default: this one)")
    create.add_argument("--index-url", metavar="URL", help="package index (default: pip's)")
    create.add_argument("--find-links", action="append", default=[], metavar="DIR")
    create.add_argument("--no-index", action="store_true", help="only --find-links folders")
    create.add_argument("--force", action="store_true", help="remake it if it exists")
    sub.add_parser("list", help="the named environments and their key packages")
    remove = sub.add_parser("remove", help="delete a named environment")
    remove.add_argument("name", metavar="NAME")


def main(args: argparse.Namespace) -> int:
    command = getattr(args, "env_command", None)
    if command == "create":
        from kerasbench.envs import Index, create

        index = Index(args.index_url, tuple(args.find_links), args.no_index)
        create(args.name, args.pip, python=args.python, index=index, force=args.force)
        return EXIT_OK
    if command == "list":
        return _list()
    if command == "remove":
        from kerasbench.envs import remove

        print(f"removed {remove(args.name)}")
        return EXIT_OK
    return _describe()


KEY_PACKAGES = ("keras", "jax", "jaxlib", "tensorflow", "torch", "numpy")


def _list() -> int:
    from kerasbench.envs import list_envs

    envs = list_envs()
    if not envs:
        print("no named environments; make one with `kerasbench env create NAME --pip SPEC ...`")
    for record in envs:
        low = {k.lower(): v for k, v in record.versions.items()}
        keys = " ".join(f"{k}=={low[k]}" for k in KEY_PACKAGES if k in low)
        state = "" if record.usable() else "  (missing: its Python is gone)"
        print(f"{record.backend:<24} Python {record.python_version}  {keys}{state}")
        print(f"{'':<24} {record.path}")
    return EXIT_OK


def _describe() -> int:
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
