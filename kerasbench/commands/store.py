"""``kerasbench store copy SRC DST``: move runs and results between stores, without loss."""

from __future__ import annotations

import argparse

from kerasbench.commands import EXIT_OK

HELP = "copy runs and results between stores (SQLite file <-> postgresql:// URL)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="store_command", required=True)
    copy = sub.add_parser("copy", help="copy every run and result of SRC that DST lacks")
    copy.add_argument("src", metavar="SRC", help="results file or postgresql:// URL")
    copy.add_argument("dst", metavar="DST", help="results file or postgresql:// URL (created)")


def main(args: argparse.Namespace) -> int:
    from kerasbench.store import open_store
    from kerasbench.store.copy import copy_store

    with open_store(args.src, create=False) as src, open_store(args.dst) as dst:
        done = copy_store(src, dst)
        where = dst.path
    print(
        f"copied {done.runs} run{'s' * (done.runs != 1)} and {done.results} "
        f"result{'s' * (done.results != 1)} to {where} ({done.runs_present} runs and "
        f"{done.results_present} results were there already)"
    )
    return EXIT_OK
