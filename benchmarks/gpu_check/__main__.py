"""python benchmarks/gpu_check [--device-kind gpu|cpu] [--backends jax,torch] [--out DIR]

Proves kerasbench's GPU paths on a GPU host with JAX and PyTorch, in one run of
under 8 minutes on one GPU, and prints one table row per check (name, backend,
precision, figure, verdict); exits 1 when a check fails. The phases, in order:

1. table: ResNet50 ``fit`` and ``train_on_batch`` at batch 64, float32 and
   mixed_bfloat16, channels_last, on each backend: images/s with its 95% CI,
   allocator peak memory, compile time, MFU against the measured matmul peak
   (< 100%); the device is a GPU and named; TF32 is recorded off.
2. tf32: a small ``--tf32`` point per backend records TF32 on, and its float32
   matmul peak is well above the peak without TF32.
3. sync: the same ``fit`` point timed by kerasbench (synchronised at window
   edges) and by a bare loop synchronised after every step (bare_fit.py),
   alternating A B B A, agree within 2%.
4. data-parallel: ``--devices`` = the GPUs present (when more than one), against one.
5. fields: every record fills the fields a GPU run should (checks.REQUIRED_FIELDS).

``--device-kind cpu`` runs the same phases on tiny points (mnist_mlp) so CI can
test the logic; checks that only mean something on a GPU say ``n/a (cpu)``.
See docs/gpu_check.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/gpu_check`: import as a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gpu_check import checks, runner, table  # noqa: E402
from gpu_check.checks import FAIL, NA_CPU, Check  # noqa: E402

# Per device kind: the model of the table and sync check, and how long to measure.
# 8 windows: the fewest for which a record gets its drift and settled fields.
DEFAULTS = {
    "gpu": {"model": "resnet50", "steps": 80, "warmup": 10, "window_steps": 10, "timeout": 420},
    "cpu": {"model": "mnist_mlp", "steps": 40, "warmup": 3, "window_steps": 5, "timeout": 300},
}
# bare_fit.py's two clocks, and how the table names them
SYNC_REFERENCES = {"every_step": "every step", "completion": "completion clock"}
PROBE_MODEL = "mnist_mlp"  # the TF32 check reads the matmul peak; a small model gets there fast


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device-kind", choices=("gpu", "cpu"), default="gpu")
    p.add_argument("--backends", help="comma-separated (default: jax and torch, if installed)")
    p.add_argument("--model", help="default: resnet50 (gpu), mnist_mlp (cpu)")
    p.add_argument("--batch-size", type=int, default=64, help="per device")
    p.add_argument("--precisions", default="float32,mixed_bfloat16")
    p.add_argument("--modes", default="fit,train_on_batch")
    p.add_argument("--steps", type=int, help="timed steps per point")
    p.add_argument("--warmup", type=int)
    p.add_argument("--window-steps", type=int)
    p.add_argument("--sync-rounds", type=int, default=2, help="rounds of the sync check (ABBA)")
    p.add_argument("--sync-precision", help="default: the last of --precisions")
    p.add_argument("--devices", type=int, help="default: the GPUs present (gpu), 1 (cpu)")
    p.add_argument("--timeout", type=float, help="seconds per point")
    p.add_argument("--budget", type=float, default=480, help="seconds; later phases are skipped")
    p.add_argument("--out", type=Path, help="write checks.json, checks.md, the store, logs")
    p.add_argument("--verbose", action="store_true", help="echo every subprocess's output")
    args = p.parse_args(argv)
    if args.sync_rounds < 1:
        p.error(f"--sync-rounds: at least 1, got {args.sync_rounds}")
    for key, value in DEFAULTS[args.device_kind].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.precisions = args.precisions.split(",")
    args.modes = args.modes.split(",")
    args.sync_precision = args.sync_precision or args.precisions[-1]
    return args


def point_flags(
    args: argparse.Namespace, batch: int, devices: int = 1, tf32: bool = False
) -> list[str]:
    """The CLI flags of every point: fixed step counts, channels_last, TF32 off unless asked."""
    return [
        "--batch-size", str(batch), "--devices", str(devices), "--steps", str(args.steps),
        "--warmup", str(args.warmup), "--window-steps", str(args.window_steps),
        "--data-format", "channels_last", "--target-ci", "0", "--repeats", "1",
        "--timeout", str(args.timeout), "--tf32" if tf32 else "--no-tf32",
    ]  # fmt: skip


def phase_table(ws: runner.Workspace, args: argparse.Namespace, backends: list[str]) -> list:
    """Phase 1: every backend x precision x mode at one device."""
    suite = {"model": args.model, "mode": args.modes, "precision": args.precisions}
    return ws.run_points("table", suite, backends, point_flags(args, args.batch_size))


def phase_tf32(
    ws: runner.Workspace, args: argparse.Namespace, backends: list[str], table_records: list
) -> tuple[list[Check], list]:
    """Phase 2: TF32 recorded off in the table; a --tf32 probe records it on, peak above."""
    rows = checks.check_tf32_default(table_records)
    suite = {"model": PROBE_MODEL, "mode": ["fit"], "precision": ["float32"]}
    records = ws.run_points("tf32", suite, backends, point_flags(args, args.batch_size, tf32=True))
    probes = {r["backend"]: r for r in records}
    for backend in backends:
        fp32 = [
            r.get("peak_tflops")
            for r in table_records
            if r["backend"] == backend and r["precision"] == "float32" and r["status"] == "ok"
        ]
        if backend not in probes:
            rows.append(Check("tf32 on with --tf32", backend, "float32", "-", FAIL, "no record"))
            continue
        peak = next((p for p in fp32 if p is not None), None)
        rows += checks.check_tf32_on(probes[backend], peak, args.device_kind == "gpu")
    return rows, records


def sync_rounds(
    ws: runner.Workspace, args: argparse.Namespace, backend: str
) -> dict[str, list[tuple[float, float]]]:
    """Per bare clock, (kerasbench, bare) samples/s per round; rounds alternate what runs first."""
    suite = {"model": args.model, "mode": ["fit"], "precision": [args.sync_precision]}
    # Both sides' processes after the first reuse its XLA executables: compilation is
    # outside the timed windows anyway, and the check fits the device time this way.
    env = {"JAX_COMPILATION_CACHE_DIR": str(ws.root / "jax_cache")}
    record: dict = {}
    pairs: dict[str, list[tuple[float, float]]] = {v: [] for v in SYNC_REFERENCES}
    for i in range(args.sync_rounds):
        speed: dict[str, float] = {}
        first = list(SYNC_REFERENCES)[i % 2]  # the bare process alternates its two clocks too
        for side in ("kerasbench", "bare") if i % 2 == 0 else ("bare", "kerasbench"):
            if side == "kerasbench":
                flags = point_flags(args, args.batch_size)
                [record] = ws.run_points(f"sync-{backend}-{i}", suite, [backend], flags, env)
                if record["status"] != "ok":
                    raise RuntimeError(checks.error_line(record))
                speed[side] = record["samples_per_sec"]
                continue
            params = {
                "model": args.model, "batch_size": args.batch_size,
                "image_size": record["image_size"], "precision": args.sync_precision,
                "data_format": "channels_last", "steps": args.steps, "warmup": args.warmup,
                "window_steps": args.window_steps, "seed": record["seed"],
                "distinct_batches": record["settings"]["distinct_batches"], "first": first,
            }  # fmt: skip
            bare = ws.bare_fit(f"sync-{backend}-{i}.bare", backend, params, env)
            if bare["device"] != args.device_kind:
                raise RuntimeError(f"the bare loop ran on {bare['device']}, not {args.device_kind}")
            speed.update((v, bare[v]) for v in SYNC_REFERENCES)
        for variant in SYNC_REFERENCES:
            pairs[variant].append((speed["kerasbench"], speed[variant]))
        bare_speeds = ", ".join(f"{v} {speed[v]:.1f}" for v in SYNC_REFERENCES)
        print(f"    sync {backend} round {i}: kerasbench {speed['kerasbench']:.1f}, {bare_speeds}")
    return pairs


def phase_sync(ws: runner.Workspace, args: argparse.Namespace, backends: list[str]) -> list:
    """Phase 3: kerasbench's fit against the bare loop's two clocks, per backend."""
    rows = []
    for backend in backends:
        try:
            pairs = sync_rounds(ws, args, backend)
        except (RuntimeError, KeyError, ValueError) as exc:
            name = "sync: window edges vs every step"
            rows.append(Check(name, backend, args.sync_precision, "-", FAIL, str(exc)))
            continue
        gpu = args.device_kind == "gpu"
        for variant, reference in SYNC_REFERENCES.items():
            found = checks.check_sync(backend, args.sync_precision, pairs[variant], gpu, reference)
            rows.append(found)
    return rows


def phase_devices(
    ws: runner.Workspace, args: argparse.Namespace, backends: list[str], table_records: list
) -> tuple[list[Check], list]:
    """Phase 4: data-parallel on every device present, against the one-device fit point."""
    n, gpu = args.devices, args.device_kind == "gpu"
    if n <= 1:
        why = NA_CPU if not gpu else f"n/a ({n} GPU)"
        return [Check("data-parallel", "-", "-", f"{n} device(s) present", why)], []
    suite = {"model": args.model, "mode": ["fit"], "precision": [args.sync_precision]}
    many = ws.run_points("devices", suite, backends, point_flags(args, args.batch_size * n, n))
    rows, scaling = [], [f"{'backend':<8} {'devices':>7} {'samples/s':>11} speedup efficiency"]
    for record in many:
        one = next(
            (
                r
                for r in table_records
                if (r["backend"], r["mode"], r["precision"])
                == (record["backend"], "fit", args.sync_precision)
            ),
            None,
        )
        rows.append(checks.check_data_parallel(one, record, n, gpu))
        speedup = rows[-1].values.get("speedup")
        for count, r in ((1, one), (n, record)):
            if r is None or r["status"] != "ok":
                continue
            gain = f"{speedup:7.2f}x {speedup / n:10.0%}" if count > 1 and speedup else ""
            scaling.append(f"{r['backend']:<8} {count:>7} {r['samples_per_sec']:>11.1f} {gain}")
    # The scaling table (per-device batch fixed); kerasbench's own `report --scaling`
    # keeps results of different labels apart, and each phase here has its own label.
    print("\n".join(["", *scaling, ""]), flush=True)
    return rows, many


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    gpu = args.device_kind == "gpu"
    backends = args.backends.split(",") if args.backends else runner.installed_backends()
    if not backends:
        print("gpu_check: neither jax nor torch (with keras) is installed here", file=sys.stderr)
        return 2
    if args.devices is None:
        args.devices = runner.gpu_count() if gpu else 1
    if gpu and args.devices < 1:
        print("gpu_check: no GPU visible (nvidia-smi); use --device-kind cpu", file=sys.stderr)
        return 2
    root = args.out or Path(tempfile.mkdtemp(prefix="gpu_check_"))
    root.mkdir(parents=True, exist_ok=True)
    ws = runner.Workspace(root, args.device_kind, args.verbose)
    clock = runner.Clock(args.budget)
    print(f"gpu_check: {args.device_kind}, {', '.join(backends)}, {args.model}, devices "
          f"{args.devices}; store {ws.db}", flush=True)  # fmt: skip

    started = time.perf_counter()
    table_records = phase_table(ws, args, backends)
    rows = checks.check_device(table_records, args.device_kind)
    rows += [checks.check_point(r, gpu) for r in table_records]
    clock.done("table", started)
    extra_records: list = []
    for name in ("tf32", "sync", "devices"):
        if clock.over_budget():
            why = f"skipped (over the {args.budget:.0f} s budget)"
            rows.append(Check(name, "-", "-", "-", why))
            continue
        started = time.perf_counter()
        if name == "tf32":
            found, probes = phase_tf32(ws, args, backends, table_records)
            rows += found
            extra_records += probes
        elif name == "sync":
            rows += phase_sync(ws, args, backends)
        else:
            found, many = phase_devices(ws, args, backends, table_records)
            rows += found
            extra_records += many
        clock.done(name, started)
    rows += checks.check_fields(table_records + extra_records, gpu)

    print()
    print(table.text(rows))
    print()
    print(table.summary(rows, clock.phases, clock.elapsed()))
    if args.out:
        meta = {"args": vars(args), "wall_s": clock.elapsed(), "phases": clock.phases}
        for path in table.write(args.out, rows, meta):
            print(f"wrote {path}")
    return 1 if any(r.failed for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
