"""python benchmarks/input_pipeline.py [--folder PATH] [--backends ...] [--fit-input KIND]

How fast each input pipeline reads an ImageNet-layout folder of JPEGs, and
whether real data slows a model down against synthetic data.

(a) ``input_only``: images/s of each loader alone (resize_crop to 224x224,
    batch 32) and images/s per core (divided by the cores its workers share):
    the PyDataset generator (threads, then processes) on each backend, and each
    backend's native loader (tf.data, torch DataLoader, grain).
(b) resnet50 ``fit``: ImageFolder data through resize_crop and the fastest
    loader of (a) for that backend, against synthetic data of the same shape,
    run in alternation (synthetic, real, synthetic, real, ...) so that a
    machine shared with other work disturbs both alike; prints real/synthetic.

Without ``--folder`` it writes a folder of JPEGs about 500x375 (ImageNet's
typical size) with smooth, photo-like content. Every point is a normal
kerasbench worker (``kerasbench.orchestrate.point.run_point``): fresh process, same
timing rules as ``kerasbench run``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kerasbench import backends, envinfo  # noqa: E402
from kerasbench.orchestrate.point import run_point  # noqa: E402
from kerasbench.result import Result  # noqa: E402
from kerasbench.spec import Spec  # noqa: E402


def write_photo_folder(root: Path, classes: int, per_class: int, size=(500, 375)) -> Path:
    """An ImageNet-like folder of JPEGs (quality 90) whose content compresses like photographs."""
    from PIL import Image

    rng = np.random.default_rng(1)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    for c in range(classes):
        folder = root / f"n{c:08d}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            fx, fy, phase = rng.uniform(0.005, 0.05, 3)
            base = np.stack(
                [np.sin(xx * fx + phase * k) * np.cos(yy * fy + k) for k in range(3)], axis=-1
            )
            pixels = (base * 100 + 128 + rng.normal(0, 8, (h, w, 3))).clip(0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(
                folder / f"img_{i:05d}.JPEG", "JPEG", quality=90
            )
    return root


def measure(spec: Spec, host: envinfo.HostInfo) -> Result:
    result = run_point(spec, host)
    if result.status != "ok":
        print(f"  {describe(spec)}: {result.status}: {result.error}", flush=True)
    return result


def describe(spec: Spec) -> str:
    how = spec.input + (" (processes)" if spec.use_multiprocessing else "")
    return f"{spec.backend:<10} {spec.dataset:<11} {how:<22}"


def loader_table(folder: Path, names: list[str], host: envinfo.HostInfo, args) -> dict:
    """(a): input_only throughput per loader; returns {backend: (best input, multiprocessing)}."""
    cores = envinfo.usable_cpus()
    print(f"\n(a) input_only, resize_crop 224x224, batch {args.batch_size}, {cores} usable cores")
    print(f"{'backend':<10} {'dataset':<11} {'loader':<22} {'images/s':>9} {'per core':>9}  loader")
    best: dict[str, tuple[float, str, bool]] = {}
    for backend in names:
        kinds = [("generator", False), ("generator", True), ("native", False)]
        for kind, multi in kinds:
            spec = Spec(
                model="resnet50",
                backend=backend,
                mode="input_only",
                dataset="imagefolder",
                data_path=str(folder),
                input=kind,
                use_multiprocessing=multi,
                batch_size=args.batch_size,
                steps=args.loader_steps,
                warmup=2,
                window_steps=2,
                timeout=1800,
            ).resolved()
            r = measure(spec, host)
            if r.status != "ok" or not r.samples_per_sec:
                continue
            loader = r.settings.get("loader", "")
            print(
                f"{describe(spec)} {r.samples_per_sec:9.1f} {r.samples_per_sec / cores:9.1f}  "
                f"{loader}",
                flush=True,
            )
            if r.samples_per_sec > best.get(backend, (0.0, "", False))[0]:
                best[backend] = (r.samples_per_sec, kind, multi)
    return {b: (kind, multi) for b, (_, kind, multi) in best.items()}


def model_table(folder: Path, fastest: dict, host: envinfo.HostInfo, args) -> None:
    """(b): resnet50 fit, real data via the fastest loader vs synthetic, in alternation."""
    print(
        f"\n(b) resnet50 fit, batch {args.model_batch}, {args.model_steps} timed steps, "
        f"{args.rounds} alternating round(s)"
    )
    print(f"{'backend':<10} {'synthetic img/s':>16} {'real img/s':>11} {'real/synth':>11}  loader")
    for backend, (kind, multi) in fastest.items():
        common = dict(
            model="resnet50",
            backend=backend,
            mode="fit",
            batch_size=args.model_batch,
            steps=args.model_steps,
            warmup=1,
            window_steps=1,
            timeout=3600,
        )
        synthetic = Spec(**common).resolved()
        real = Spec(
            **common,
            dataset="imagefolder",
            data_path=str(folder),
            preprocess="resize_crop",
            input=kind,
            use_multiprocessing=multi,
        ).resolved()
        rates: dict[str, list[float]] = {"synthetic": [], "real": []}
        loader = ""
        for _ in range(args.rounds):
            for name, spec in (("synthetic", synthetic), ("real", real)):
                r = measure(spec, host)
                if r.status == "ok" and r.samples_per_sec:
                    rates[name].append(r.samples_per_sec)
                    loader = r.settings.get("loader", loader) if name == "real" else loader
        if rates["synthetic"] and rates["real"]:
            s, q = statistics.median(rates["synthetic"]), statistics.median(rates["real"])
            print(f"{backend:<10} {s:16.2f} {q:11.2f} {q / s:11.3f}  {loader}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="an ImageNet-layout folder (default: made)")
    parser.add_argument("--images", type=int, default=256, help="images to make (default 256)")
    parser.add_argument("--backends", default=",".join(backends.installed_backends()))
    parser.add_argument("--batch-size", type=int, default=32, help="loader batch (a)")
    parser.add_argument("--loader-steps", type=int, default=12, help="timed batches (a)")
    parser.add_argument("--model-batch", type=int, default=8, help="resnet50 batch (b)")
    parser.add_argument("--model-steps", type=int, default=3, help="timed steps (b)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (b)")
    parser.add_argument("--skip-model", action="store_true", help="only (a)")
    parser.add_argument(
        "--fit-input",
        choices=("generator", "native"),
        help="(b) with this loader on every backend, skipping (a)",
    )
    args = parser.parse_args()
    names = [b for b in args.backends.split(",") if b in ("jax", "tensorflow", "torch")]
    host = envinfo.collect()
    with tempfile.TemporaryDirectory(prefix="kb-photos-") as tmp:
        folder = args.folder
        if folder is None:
            folder = write_photo_folder(Path(tmp), classes=8, per_class=max(1, args.images // 8))
            print(f"made {args.images} JPEGs of 500x375 in {folder}")
        if args.fit_input:
            fastest = {b: (args.fit_input, False) for b in names}
        else:
            fastest = loader_table(folder, names, host, args)
        if not args.skip_model:
            model_table(folder, fastest, host, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
