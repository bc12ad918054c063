"""``kerasbench setup mxnet``: make a legacy backend's own environment."""

from __future__ import annotations

import argparse
import sys

from kerasbench.commands import EXIT_FAILED, EXIT_OK, UsageError

HELP = "make a legacy backend's environment (mxnet: Python 3.7-3.9, keras-mxnet)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("backend", choices=("mxnet",))
    p.add_argument("--python", metavar="PATH", help="interpreter to use (default: found)")
    p.add_argument("--cuda", metavar="VER", help="install mxnet-cuVER (e.g. 112), not CPU")
    p.add_argument("--force", action="store_true", help="remake it even if one is recorded")


def main(args: argparse.Namespace) -> int:
    from kerasbench.legacy import envs

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        record = envs.setup(
            args.backend, python=args.python, cuda=args.cuda, force=args.force, log=log
        )
    except envs.InstallError as exc:
        print(f"kerasbench: setup {args.backend} failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except envs.EnvError as exc:
        raise UsageError(str(exc)) from None
    versions = ", ".join(f"{k} {v}" for k, v in record.versions.items() if k != "keras_backend")
    print(f"{args.backend}: {record.python} ({versions})")
    return EXIT_OK
