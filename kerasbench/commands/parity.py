"""``kerasbench parity``: the same weights and batches on every backend; do the losses agree?"""

from __future__ import annotations

import argparse

from kerasbench.commands import EXIT_FAILED, EXIT_OK, UsageError, csv

HELP = "same weights and batches on every backend: do the losses agree?"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", type=csv, required=True)
    p.add_argument("--backends", type=csv, help="default: installed training backends")
    p.add_argument("--steps", type=int, default=3, help="SGD steps (default 3)")
    p.add_argument("--precision", default="float32")


def main(args: argparse.Namespace) -> int:
    from kerasbench import backends
    from kerasbench.orchestrate import agreement
    from kerasbench.orchestrate.plan import check_value

    names = args.backends or [
        b for b in backends.installed_backends(training_only=True) if b in agreement.KERAS3
    ]
    for model in args.models:
        check_value("model", model, "--models")
    for name in names:
        check_value("backend", name, "--backends")
        if name not in agreement.KERAS3:
            raise UsageError(f"--backends: parity runs Keras 3 training backends only, not {name}")
    check_value("precision", args.precision, "--precision")
    if not 1 <= args.steps <= 1000:
        raise UsageError(f"--steps: {args.steps} is out of range [1, 1000]")
    if len(names) < 2:
        raise UsageError(f"parity needs two backends or more; have {', '.join(names) or 'none'}")
    failed = False
    for model in args.models:
        result = agreement.run_parity(model, names, args.steps, args.precision)
        print("\n".join(agreement.format_lines(result)))
        failed |= not result.ok
    return EXIT_FAILED if failed else EXIT_OK
