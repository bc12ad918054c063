"""kerasbench {run,report,list,env,setup,compare} ... : the command line, kept thin.

Exit codes: 0 success; 1 a point failed or timed out (compare: a point regressed);
2 bad input (nothing run);
3 a result could not be saved (it went to a JSON lines file beside the store);
128 + N when signal N (SIGINT, SIGTERM) stopped a run (resume it with ``--resume``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from kerasbench import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_SAVED = 0, 1, 2, 3


class UsageError(Exception):
    """Bad input from the user: reported on one line, exit 2."""


def _console() -> Any:
    """A console for results; wide when piped, so tables are not cut to 80 columns."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def _csv(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def _csv_int(value: str) -> list[int]:
    try:
        return [int(v) for v in _csv(value)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers, got {value!r}") from None


def _since(value: str) -> Any:
    from kerasbench.report.select import parse_since

    try:
        return parse_since(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_results(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--results",
        metavar="PATH",
        help="results store (default: $KERASBENCH_RESULTS or .kerasbench/results.db)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kerasbench", description="Compare Keras backends on models, machines and settings."
    )
    parser.add_argument("--version", action="version", version=f"kerasbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    from kerasbench.axes import AXES_HELP

    run = sub.add_parser(
        "run",
        help="run a suite of benchmark points and save the results",
        epilog=AXES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--suite", help="built-in suite name or a .toml path (default: quick)")
    run.add_argument("--backends", type=_csv, help="comma-separated (default: installed)")
    run.add_argument("--models", type=_csv)
    run.add_argument(
        "--modes",
        type=_csv,
        help="fit, train_on_batch, predict, input_only (the loader alone), generate (causal LMs)",
    )
    run.add_argument("--batch-size", type=_csv_int, help="global batch size(s)")
    run.add_argument(
        "--steps", type=int, help="timed steps per point (a fixed count unless --target-ci)"
    )
    run.add_argument(
        "--target-ci",
        type=float,
        metavar="FRACTION",
        help="measure until the 95%% CI half-width is at most this fraction of the median "
        "(e.g. 0.02); 0 = exactly --steps",
    )
    run.add_argument(
        "--max-time", type=float, metavar="SECONDS", help="time limit of --target-ci windows"
    )
    run.add_argument("--min-windows", type=int, help="fewest windows before --target-ci stops")
    run.add_argument("--repeats", type=int, help="fresh worker processes per point")
    run.add_argument(
        "--tf32", action=argparse.BooleanOptionalAction, help="allow TF32 on GPUs (default off)"
    )
    run.add_argument("--warmup", type=int, help="untimed steps after the first step")
    run.add_argument("--window-steps", type=int, help="steps per timed window")
    run.add_argument("--precision", type=_csv)
    run.add_argument("--data-format", type=_csv, help="channels_last, channels_first")
    run.add_argument("--jit-compile", type=_csv, help="auto, on, off")
    run.add_argument("--devices", type=_csv_int, help="devices per host")
    run.add_argument("--device-kind", choices=("auto", "cpu", "gpu"))
    run.add_argument(
        "--num-hosts", type=int, help="hosts in a multi-host point (default: from torchrun/SLURM)"
    )
    run.add_argument("--host-rank", type=int, help="this host's rank, 0 for the coordinator")
    run.add_argument("--coordinator", metavar="HOST:PORT", help="host 0's address for rendezvous")
    run.add_argument("--image-size", type=int)
    run.add_argument("--seq-len", type=int, help="steps per sample of sequence models")
    run.add_argument("--dataset", type=_csv, help="synthetic, cifar10, imagefolder, text")
    run.add_argument("--data-path", metavar="PATH", help="the dataset's folder (or text file)")
    run.add_argument("--input", type=_csv, help="arrays, generator, native (see below)")
    run.add_argument("--preprocess", type=_csv, help="imagefolder: resize_crop, resize256")
    run.add_argument("--workers", type=int, help="loader workers (default: one per core)")
    run.add_argument(
        "--use-multiprocessing",
        action="store_true",
        default=None,
        help="generator and grain loaders: worker processes instead of threads",
    )
    run.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="an unreadable image file is an error (default: skipped and counted)",
    )
    run.add_argument("--seed", type=int)
    run.add_argument("--timeout", type=float, help="seconds per point before it is killed")
    run.add_argument("--label", help="name for this run's results (e.g. a branch)")
    run.add_argument("--dry-run", action="store_true", help="list the points, run nothing")
    run.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="RUN_ID",
        help="continue an interrupted run (default: the newest one in the store), "
        "running only its points without a result; takes no suite or override flags",
    )
    run.add_argument("--format", choices=("table", "markdown"), default="table")
    _add_results(run)

    report = sub.add_parser("report", help="show saved results")
    _add_results(report)
    report.add_argument("--label")
    report.add_argument("--run", dest="run_id", help="only this run id")
    report.add_argument("--models", type=_csv)
    report.add_argument("--backends", type=_csv)
    report.add_argument("--all", action="store_true", help="every result, not the latest per point")
    report.add_argument(
        "--format", choices=("table", "markdown", "csv", "json", "html", "png"), default="table"
    )
    report.add_argument("--since", type=_since, help="only results started at/after this ISO time")
    report.add_argument("--out", metavar="PATH", help="file to write (for png: a folder)")
    report.add_argument("--compare", metavar="BASE", help="html/png: compare with a label or run")
    report.add_argument(
        "--scaling",
        action="store_true",
        help="devices (and hosts) against throughput: speedup and scaling efficiency",
    )

    lst = sub.add_parser("list", help="list models, suites or backends")
    lst.add_argument("what", nargs="?", choices=("models", "suites", "backends"), default="models")

    sub.add_parser("env", help="describe this host and its libraries")

    setup = sub.add_parser(
        "setup", help="make a legacy backend's environment (mxnet: Python 3.7-3.9, keras-mxnet)"
    )
    setup.add_argument("backend", choices=("mxnet",))
    setup.add_argument("--python", metavar="PATH", help="interpreter to use (default: found)")
    setup.add_argument("--cuda", metavar="VER", help="install mxnet-cuVER (e.g. 112), not CPU")
    setup.add_argument("--force", action="store_true", help="remake it even if one is recorded")

    cmp = sub.add_parser(
        "compare",
        help="compare two result sets point by point; exit 1 on a significant regression",
    )
    cmp.add_argument("base", metavar="BASE", help="results store or JSON export")
    cmp.add_argument("new", metavar="NEW", nargs="?", help="results store or JSON (default: BASE)")
    cmp.add_argument("--base-label", help="only BASE results with this label")
    cmp.add_argument("--new-label", help="only NEW results with this label")
    cmp.add_argument(
        "--threshold", default="5%", help="smallest throughput change that counts (default 5%%)"
    )
    cmp.add_argument("--alpha", type=float, default=0.05, help="significance level (0.05)")
    cmp.add_argument("--format", choices=("text", "json"), default="text")

    par = sub.add_parser(
        "parity", help="same weights and batches on every backend: do the losses agree?"
    )
    par.add_argument("--models", type=_csv, required=True)
    par.add_argument("--backends", type=_csv, help="default: installed training backends")
    par.add_argument("--steps", type=int, default=3, help="SGD steps (default 3)")
    par.add_argument("--precision", default="float32")
    return parser


# Flags of `run` that override suite keys, as (argparse dest, Spec key).
_OVERRIDES = (
    ("backends", "backend"),
    ("batch_size", "batch_size"),
    ("steps", "steps"),
    ("warmup", "warmup"),
    ("window_steps", "window_steps"),
    ("precision", "precision"),
    ("data_format", "data_format"),
    ("jit_compile", "jit_compile"),
    ("devices", "devices"),
    ("device_kind", "device_kind"),
    ("num_hosts", "num_hosts"),
    ("host_rank", "host_rank"),
    ("coordinator", "coordinator"),
    ("image_size", "image_size"),
    ("dataset", "dataset"),
    ("data_path", "data_path"),
    ("input", "input"),
    ("preprocess", "preprocess"),
    ("workers", "workers"),
    ("use_multiprocessing", "use_multiprocessing"),
    ("strict", "strict"),
    ("seq_len", "seq_len"),
    ("seed", "seed"),
    ("timeout", "timeout"),
    ("label", "label"),
    ("target_ci", "target_ci"),
    ("max_time", "max_time"),
    ("min_windows", "min_windows"),
    ("repeats", "repeats"),
    ("tf32", "tf32"),
)


def plan(args: argparse.Namespace) -> tuple[Any, list[Any]]:
    """The suite and its points after flags override it; raises SpecError on bad input."""
    from kerasbench import backends
    from kerasbench.spec import load_suite

    overrides = {
        key: getattr(args, dest) for dest, key in _OVERRIDES if getattr(args, dest) is not None
    }
    _check_flags(args, overrides)
    suite = load_suite(args.suite or "quick")
    # --models and --modes select from the suite (keeping each block's settings);
    # every other flag overrides its key in every block.
    if args.models is not None:
        suite = suite.select("model", args.models)
    if args.modes is not None:
        suite = suite.select("mode", args.modes)
    if args.steps is not None and args.target_ci is None:
        overrides["target_ci"] = 0.0  # --steps alone asks for exactly that many steps
    if args.num_hosts is None:  # torchrun's and SLURM's variables, where set
        from kerasbench.parallel import placement_from_env

        for key, value in placement_from_env(os.environ).items():
            overrides.setdefault(key, value)
    specs = suite.expand(overrides, default_backends=backends.installed_backends())
    if args.backends is None:
        # Installed inference-only backends join the predict points only.
        specs = [s for s in specs if backends.BACKENDS[s.backend].training or s.mode == "predict"]
    from kerasbench.data import resolve_data_paths

    return suite, [s.resolved() for s in resolve_data_paths(specs)]


def _check_flags(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    """Validate each flag value on its own first, so that an error names the flag."""
    from kerasbench.spec import check_value

    flags = {key: dest for dest, key in _OVERRIDES}
    checks = [(k, v, f"--{flags[k].replace('_', '-')}") for k, v in overrides.items()]
    checks += [("model", m, "--models") for m in args.models or ()]
    checks += [("mode", m, "--modes") for m in args.modes or ()]
    for key, value, flag in checks:
        for item in value if isinstance(value, list) else [value]:
            check_value(key, item, flag)


def _planning_flags(args: argparse.Namespace) -> list[str]:
    """The suite-shaping flags given on the command line (--resume takes none)."""
    dests = ["suite", "models", "modes", *(dest for dest, _ in _OVERRIDES)]
    return [f"--{d.replace('_', '-')}" for d in dests if getattr(args, d) is not None]


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


def _print_plan(console: Any, specs: list[Any]) -> None:
    for s in specs:
        console.print(
            f"{s.model} {s.backend} {s.mode} batch={s.batch_size} steps={s.steps} "
            f"warmup={s.warmup} {s.precision} {s.data_format} devices={s.devices}"
            + (f" host={s.host_rank}/{s.num_hosts}" if s.num_hosts > 1 else "")
            + (f" seq_len={s.seq_len}" if s.seq_len else ""),
            highlight=False,
        )


def cmd_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kerasbench import envinfo, runner
    from kerasbench.store import Store, default_path

    store_path = Path(args.results or default_path())
    console = _console()
    if args.resume is not None:
        given = _planning_flags(args)
        if given:
            raise UsageError(
                f"--resume runs the stored plan of a run; it takes no {', '.join(given)}"
            )
        run_id, points, planned = runner.pending(store_path, args.resume or None)
        if args.dry_run:
            _print_plan(console, [spec for _, spec in points])
            return EXIT_OK
        suite_name = None
    else:
        suite, specs = plan(args)
        if not specs:
            raise UsageError("no benchmark points: no backend is installed and none was named")
        if args.dry_run:
            _print_plan(console, specs)
            return EXIT_OK
        suite_name, planned = suite.name, len(specs)
    _check_fault_injection()
    host = envinfo.collect()
    with Store(store_path) as store:
        if store.migrated_from is not None:
            print(
                f"kerasbench: migrated {store_path} from schema {store.migrated_from}",
                file=sys.stderr,
            )
        if args.resume is not None:
            store.reopen_run(run_id)
            console.print(
                f"resuming run {run_id}: {len(points)} of {planned} points to go", highlight=False
            )
        else:
            run_id, points = runner.begin(
                store, suite_name, args.label or "", sys.argv, host, specs
            )
        outcome = runner.execute(store, run_id, points, host, planned)
        results = store.results(run_id=run_id, latest=False)
    _print_results(console, results, args.format)
    console.print(
        f"run {run_id}: {planned - outcome.remaining} of {planned} points saved to {store_path}",
        highlight=False,
    )
    hint = runner.resume_hint(store_path, run_id)
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


def _print_results(console: Any, results: list[Any], fmt: str) -> None:
    from kerasbench.report import formats
    from kerasbench.report.table import notes, render_table

    if fmt == "table":
        console.print(render_table(results))
        for note in notes(results):
            console.print(f"  {note}", highlight=False, markup=False)
    elif fmt == "markdown":
        sys.stdout.write(formats.markdown(results))
    elif fmt == "json":
        sys.stdout.write(formats.json_records(results))
    elif fmt == "csv":
        sys.stdout.write(formats.csv_records(results))


def cmd_report(args: argparse.Namespace) -> int:
    from kerasbench.report.select import Query, select
    from kerasbench.store import Store, default_path

    query = Query(
        label=args.label,
        run_id=args.run_id,
        models=args.models,
        backends=args.backends,
        since=args.since,
        latest=not args.all,
        compare=args.compare,
    )
    with Store(args.results or default_path(), create=False) as store:
        selection = select(store, query)
    results = selection.results
    if not results and args.format in ("table", "html", "png"):
        raise UsageError("no results match; run `kerasbench run` first or relax the filters")
    if args.scaling:
        return _print_scaling(results, args.format)
    if args.out or args.format in ("html", "png"):
        from kerasbench.report.files import write_report

        try:
            for path in write_report(args.format, args.out, selection, query):
                print(path)
        except OSError as exc:
            raise UsageError(f"--out {exc.filename or args.out}: {exc.strerror or exc}") from None
    else:
        _print_results(_console(), results, args.format)
    return EXIT_OK


def _print_scaling(results: list[Any], fmt: str) -> int:
    import json

    from kerasbench.report import scaling

    if fmt not in ("table", "markdown", "json"):
        raise UsageError(f"--scaling prints table, markdown or json, not {fmt}")
    table = scaling.scaling_table(results)
    if not table.rows and fmt == "table":
        raise UsageError(
            "no scaling lines: run one configuration at several device counts (e.g. --devices 1,2)"
        )
    if fmt == "table":
        _console().print(scaling.render_scaling_table(table))
    elif fmt == "markdown":
        sys.stdout.write(scaling.scaling_markdown(table))
    else:
        sys.stdout.write(json.dumps(scaling.scaling_records(table), indent=2) + "\n")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from kerasbench import backends
    from kerasbench.models import MODELS
    from kerasbench.spec import load_suite, suite_names

    console = _console()
    if args.what == "models":
        table = Table("model", "batch", "input", "output", "description")
        for m in MODELS.values():
            table.add_row(
                m.name,
                str(m.default_batch_size),
                m.describe_input(),
                m.describe_output() + (" (+generate)" if m.causal_lm else ""),
                escape(m.description),
                style="dim" if m.tiny_of else None,
            )
        table.caption = (
            "batch: default global batch. Dim rows: tiny variants for tests. "
            "Every model runs fit, train_on_batch and predict; causal LMs also generate."
        )
    elif args.what == "suites":
        table = Table("suite", "points*", "description")
        for name in suite_names():
            suite = load_suite(name)
            count = len(suite.expand(default_backends=["jax"]))
            table.add_row(name, str(count), suite.description)
        table.caption = "* points per backend"
    else:
        table = Table("backend", "installed", "version", "keras", "install with")
        table.caption = "legacy backends (Keras 2) run only when named: --backends tf-keras,mxnet"
        for name, info in backends.BACKENDS.items():
            missing = backends.missing_packages(name)
            table.add_row(
                name,
                "yes" if not missing else f"no (missing {', '.join(missing)})",
                backends.backend_version(name) or "-",
                backends.keras_version(name) or "-",
                escape(info.install_hint),
            )
    console.print(table)
    return EXIT_OK


def cmd_env(args: argparse.Namespace) -> int:
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
    _console().print(table)
    return EXIT_OK


def cmd_setup(args: argparse.Namespace) -> int:
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


def cmd_parity(args: argparse.Namespace) -> int:
    from kerasbench import backends, parity
    from kerasbench.spec import check_value

    names = args.backends or [
        b for b in backends.installed_backends(training_only=True) if b in parity.KERAS3
    ]
    for model in args.models:
        check_value("model", model, "--models")
    for name in names:
        check_value("backend", name, "--backends")
        if name not in parity.KERAS3:
            raise UsageError(f"--backends: parity runs Keras 3 training backends only, not {name}")
    check_value("precision", args.precision, "--precision")
    if not 1 <= args.steps <= 1000:
        raise UsageError(f"--steps: {args.steps} is out of range [1, 1000]")
    if len(names) < 2:
        raise UsageError(f"parity needs two backends or more; have {', '.join(names) or 'none'}")
    failed = False
    for model in args.models:
        result = parity.run_parity(model, names, args.steps, args.precision)
        print("\n".join(parity.format_lines(result)))
        failed |= not result.ok
    return EXIT_FAILED if failed else EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from kerasbench.report import compare

    if args.new is None and not (args.base_label or args.new_label):
        raise UsageError("compare needs NEW, or --base-label/--new-label within BASE")
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha: {args.alpha} is out of range (0, 1)")
    try:
        threshold = compare.parse_threshold(args.threshold)
        base = compare.load_results(args.base, args.base_label)
        new = compare.load_results(args.new or args.base, args.new_label)
    except compare.CompareError as exc:
        raise UsageError(str(exc)) from None
    if not base or not new:
        side = "BASE" if not base else "NEW"
        raise UsageError(f"{side} holds no results (check the path and --*-label)")
    result = compare.compare(base, new, threshold, args.alpha)
    if args.format == "json":
        sys.stdout.write(compare.to_json(result))
    else:
        print("\n".join(compare.format_lines(result)))
    return result.exit_code


COMMANDS = {
    "run": cmd_run,
    "report": cmd_report,
    "list": cmd_list,
    "env": cmd_env,
    "setup": cmd_setup,
    "compare": cmd_compare,
    "parity": cmd_parity,
}


def _stacks_on_sigusr1() -> None:
    """`kill -USR1 PID` prints every thread's stack to stderr: where a stuck run is stuck."""
    import faulthandler
    import signal

    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)


def main(argv: Sequence[str] | None = None) -> int:
    from kerasbench.spec import SpecError
    from kerasbench.store import StoreError

    if argv is None:  # run as a program, not called by a test or a script
        _stacks_on_sigusr1()

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (or --help)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except (UsageError, SpecError, StoreError) as exc:
        print(f"kerasbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("kerasbench: interrupted; finished results are saved", file=sys.stderr)
        return 130
