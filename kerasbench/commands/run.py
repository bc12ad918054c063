"""``kerasbench run``: plan a suite, run each point in a fresh worker, save as it goes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kerasbench.commands import (
    EXIT_FAILED,
    EXIT_NOT_SAVED,
    EXIT_OK,
    UsageError,
    add_results,
    console,
    csv,
    csv_int,
    print_results,
)

HELP = "run a suite of benchmark points and save the results"
_TYPES = {"csv": csv, "csv_int": csv_int, "int": int, "float": float, "str": str}


def add_arguments(p: argparse.ArgumentParser) -> None:
    from kerasbench.axes import AXES_HELP
    from kerasbench.orchestrate.plan import flag_fields
    from kerasbench.spec import DEVICE_KINDS

    p.epilog = AXES_HELP
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--suite", help="built-in suite name or a .toml path (default: quick)")
    p.add_argument("--models", type=csv, help="models to run (each on the suite's settings)")
    p.add_argument(
        "--modes",
        type=csv,
        help="fit, train_on_batch, predict, input_only (the loader alone), generate (causal LMs)",
    )
    # Every other flag overrides its Spec key in every block (from Spec field metadata).
    for f in flag_fields():
        extra: dict[str, Any] = {"help": f.help or None}
        if f.metavar:
            extra["metavar"] = f.metavar
        if f.kind == "switch":
            p.add_argument(f.flag, action="store_true", default=None, **extra)
        elif f.kind == "onoff":
            p.add_argument(f.flag, action=argparse.BooleanOptionalAction, **extra)
        elif f.kind == "choice":
            p.add_argument(f.flag, choices=DEVICE_KINDS, **extra)
        else:
            p.add_argument(f.flag, type=_TYPES[f.kind], **extra)
    p.add_argument("--dry-run", action="store_true", help="list the points and verdicts; run none")
    p.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="RUN_ID",
        help="continue an interrupted run (default: the newest one in the store), "
        "running only its points without a result; takes no suite or override flags",
    )
    p.add_argument("--format", choices=("table", "markdown"), default="table")
    add_results(p)


def request(args: argparse.Namespace) -> Any:
    """The planning request the flags make."""
    from kerasbench.orchestrate.plan import Request, flag_fields

    overrides = {
        f.key: getattr(args, f.dest) for f in flag_fields() if getattr(args, f.dest) is not None
    }
    return Request(args.suite, args.models, args.modes, overrides)


def _planning_flags(args: argparse.Namespace) -> list[str]:
    """The suite-shaping flags given on the command line (--resume takes none)."""
    from kerasbench.orchestrate.plan import flag_fields

    flags = ["--suite", "--models", "--modes", *(f.flag for f in flag_fields())]
    return [f for f in flags if getattr(args, f.lstrip("-").replace("-", "_")) is not None]


def _check_fault_injection() -> None:
    """Refuse a malformed test-only fault setting, and never let an active one go unnoticed."""
    import os

    from kerasbench.worker import faults

    value = os.environ.get(faults.ENV_VAR)
    if value:
        try:
            faults.parse(value)
        except faults.FaultSpecError as exc:
            raise UsageError(str(exc)) from None
        print(
            f"kerasbench: warning: {faults.ENV_VAR}={value!r} is set: "
            "workers will fail on purpose (a test setting)",
            file=sys.stderr,
        )


def _print_plan(points: list[Any]) -> None:
    from kerasbench.orchestrate.plan import describe

    out = console()
    for spec, verdict in points:
        out.print(describe(spec, verdict), highlight=False, markup=False, soft_wrap=True)
    skipped = sum(not v.runnable for _, v in points)
    out.print(f"{len(points)} points: {len(points) - skipped} to run, {skipped} skipped")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kerasbench import envinfo, feasibility
    from kerasbench.orchestrate import plan, point, run
    from kerasbench.store import default_target, is_url, open_store

    target = args.results or default_target()
    store_path = target if is_url(target) else Path(target)
    out = console()
    gpus = point.gpu_count()
    if args.resume is not None:
        given = _planning_flags(args)
        if given:
            raise UsageError(
                f"--resume runs the stored plan of a run; it takes no {', '.join(given)}"
            )
        run_id, points, planned = run.pending(store_path, args.resume or None)
        if args.dry_run:
            host = feasibility.Host(gpus)
            _print_plan([(s, feasibility.check(s, host)) for _, s in points])
            return EXIT_OK
        suite_name = None
    else:
        the_plan = plan.plan(request(args), gpus)
        specs = the_plan.specs
        if not specs:
            raise UsageError("no benchmark points: no backend is installed and none was named")
        if args.dry_run:
            _print_plan(the_plan.points)
            return EXIT_OK
        suite_name, planned = the_plan.suite.name, len(specs)
    _check_fault_injection()
    host_info = envinfo.collect()
    with open_store(store_path) as store:
        shown = store.path  # a URL without its password
        if store.migrated_from is not None:
            print(
                f"kerasbench: migrated {shown} from schema {store.migrated_from}",
                file=sys.stderr,
            )
        if args.resume is not None:
            store.reopen_run(run_id)
            out.print(
                f"resuming run {run_id}: {len(points)} of {planned} points to go", highlight=False
            )
        else:
            run_id, points = run.begin(
                store, suite_name, args.label or "", sys.argv, host_info, specs
            )
            planned = len(points)
        outcome = run.execute(store, run_id, points, host_info, planned)
        results = store.results(run_id=run_id, latest=False)
    print_results(results, args.format)
    out.print(
        f"run {run_id}: {planned - outcome.remaining} of {planned} points saved to {shown}",
        highlight=False,
    )
    return _exit_code(outcome, shown, planned)


def _exit_code(outcome: Any, store_path: Any, planned: int) -> int:
    """Say what went wrong, if anything, and the exit code that goes with it."""
    from kerasbench.orchestrate import run

    hint = run.resume_hint(store_path, outcome.run_id)
    if outcome.save_error:
        where = outcome.unsaved_path or "stderr (nowhere else was writable)"
        print(
            f"kerasbench: error: {outcome.save_error}\n"
            f"kerasbench: the unsaved result was written to {where}; "
            f"earlier results are safe in the store. Free space, then resume with: {hint}",
            file=sys.stderr,
        )
        return EXIT_NOT_SAVED
    if outcome.stop_signal:
        import signal

        print(
            f"kerasbench: interrupted ({signal.Signals(outcome.stop_signal).name}): "
            f"{outcome.remaining} of {planned} points still to run; finished results are "
            f"saved. Resume with: {hint}",
            file=sys.stderr,
        )
        return outcome.exit_code or EXIT_FAILED
    bad = [r for r in outcome.results if r.status in ("failed", "timeout")]
    return EXIT_FAILED if bad else EXIT_OK
