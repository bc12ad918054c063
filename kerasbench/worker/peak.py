"""The device's measured matmul peak, per backend and precision, cached per host.

MFU (model FLOPs utilisation) needs a peak to divide by. Datasheet peaks do
not exist for CPUs and are rarely reached on GPUs, so kerasbench measures one:
square matrix multiplies of the compute dtype through the backend itself,
best of several timed windows. The figure is cached in
``$KERASBENCH_CACHE/peak_flops.json`` (default ``~/.cache/kerasbench``), keyed
by host, backend and its version, device, dtype and TF32, so each is measured
once per host. Delete the file to measure again (e.g. after measuring on a busy
machine, which gives a low peak and so a high MFU).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from kerasbench.spec import Spec
from kerasbench.worker import frameworks

CACHE_FILE = "peak_flops.json"
COMPUTE_DTYPES = {"float32": "float32", "mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
CPU_SIZE, GPU_SIZE = 1024, 8192
WINDOWS, MIN_WINDOW_S = 5, 0.1


def cache_dir() -> Path:
    explicit = os.environ.get("KERASBENCH_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kerasbench"


def cache_key(spec: Spec, device_name: str, backend_version: str) -> str:
    dtype = COMPUTE_DTYPES[spec.precision]
    return "|".join(
        [
            socket.gethostname(),
            frameworks.framework_of(spec.backend),  # X and X-native share one peak
            backend_version,
            device_name,
            dtype,
            f"tf32={spec.tf32}",
        ]
    )


def measure_peak_tflops(backend: str, dtype: str, gpu: bool) -> float:
    """Best-window TFLOP/s of square matmuls (2 n^3 FLOPs each)."""
    n = GPU_SIZE if gpu else CPU_SIZE
    run = frameworks.get(backend).matmul_runner(n, dtype, gpu)
    if run is None:
        raise ValueError(f"no matmul peak benchmark for backend {backend!r}")
    run(2)  # compile and allocate, untimed
    reps = 1
    while True:  # grow the window until it is long enough to time
        start = time.perf_counter()
        run(reps)
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_WINDOW_S or reps >= 1 << 16:
            break
        reps *= 2
    best = reps / elapsed
    for _ in range(WINDOWS - 1):
        start = time.perf_counter()
        run(reps)
        best = max(best, reps / (time.perf_counter() - start))
    return 2 * n**3 * best / 1e12


def peak_tflops(spec: Spec, device_kind: str, device_name: str, backend_version: str) -> dict:
    """The cached or freshly measured peak: {"peak_tflops", "peak_source", "peak_key"}."""
    if frameworks.get(spec.backend).matmul_runner is None:
        return {"peak_tflops": None, "peak_source": f"not measured for {spec.backend}"}
    key = cache_key(spec, device_name, backend_version)
    path = cache_dir() / CACHE_FILE
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(cache, dict):
            cache = {}
    except (OSError, ValueError):
        cache = {}
    entry = cache.get(key)
    if isinstance(entry, dict) and isinstance(entry.get("tflops"), (int, float)):
        return {"peak_tflops": float(entry["tflops"]), "peak_source": f"cache {path}"}
    tflops = measure_peak_tflops(spec.backend, COMPUTE_DTYPES[spec.precision], device_kind == "gpu")
    cache[key] = {
        "tflops": tflops,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache costs a re-measure next time, nothing else
    return {"peak_tflops": tflops, "peak_source": "measured"}
