"""The planning-time probe of a user's model: build it once, in a child process, and say
whether the workers could.

What only running the user's code tells (a function that returns something other than a
Model, an input whose shape stays unknown without ``--input-shapes``, a builder that
raises) would otherwise fail inside every worker, after the run has started. So before
any worker starts, ``check_builds`` runs ``python -m kerasbench.usermodel.buildcheck`` once
per distinct model: it loads or builds the model (no compile, no fit), resolves its input
shapes and writes ``{"error": null}`` or ``{"error": "<one line>"}`` to a file. The
function is the user's trusted code (README); a ``.keras`` file is loaded as the worker
loads it (``load.load_model``), refused before loading when unsafe and not trusted.

A probe that ends without a verdict (timed out, killed for memory) stops nothing: the
workers report what goes wrong, as they did before the probe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from kerasbench.usermodel import UserModelError

PROBE_TIMEOUT_S = 300.0
PROBE_TIMEOUT_ENV = "KERASBENCH_BUILDCHECK_TIMEOUT"  # seconds, for a model slow to build


def probe_backend() -> str:
    """The backend the probe builds under: jax when installed, else the first Keras 3 one."""
    from kerasbench import backends

    keras3 = [
        name
        for name in backends.installed_backends()
        if not backends.BACKENDS[name].legacy and not backends.BACKENDS[name].native
    ]
    if not keras3:
        raise UserModelError("--model-path: no Keras 3 backend is installed to build it with")
    return "jax" if "jax" in keras3 else keras3[0]


def check_builds(
    path: str,
    trust_code: bool = False,
    custom_objects: str = "",
    model_args: str = "",
    input_shapes: str = "",
) -> str | None:
    """Build the model in a child process; raise ``UserModelError`` (one line) when it fails.

    Returns None when the model builds and its inputs resolve, or a one-line note when
    the probe gave no verdict (the run goes ahead; its workers report). The probe runs in
    a temporary folder, as the workers do, so paths are made absolute first.
    """
    from kerasbench.usermodel.precheck import absolute

    request = {
        "ref": path,  # as the user wrote it, for the message
        "path": absolute(path),
        "trust_code": trust_code,
        "custom_objects": absolute(custom_objects),
        "model_args": model_args,
        "input_shapes": input_shapes,
    }
    timeout = float(os.environ.get(PROBE_TIMEOUT_ENV) or PROBE_TIMEOUT_S)
    with tempfile.TemporaryDirectory(prefix="kerasbench-buildcheck-") as tmp:
        out = Path(tmp) / "verdict.json"
        (Path(tmp) / "keras_home").mkdir()
        command = [
            sys.executable,
            "-m",
            "kerasbench.usermodel.buildcheck",
            json.dumps(request),
            str(out),
        ]
        try:
            proc = subprocess.run(
                command,
                env=_env(Path(tmp) / "keras_home"),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            return f"building {path} took over {timeout:g} s at planning time; not checked"
        verdict = _read(out)
    if verdict is None:
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return f"the planning-time build of {path} gave no verdict ({last[:200]}); not checked"
    if verdict.get("error"):
        raise UserModelError(str(verdict["error"]).splitlines()[0])
    return None


def _env(keras_home: Path) -> dict[str, str]:
    """The probe's environment: this kerasbench importable, a private KERAS_HOME, CPU only."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    path = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.update(PYTHONPATH=path, KERAS_BACKEND=probe_backend(), KERAS_HOME=str(keras_home))
    # Building needs no accelerator; leaving it alone keeps its memory for the workers.
    env.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
    return env


def _read(out: Path) -> dict[str, Any] | None:
    try:
        verdict = json.loads(out.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return verdict if isinstance(verdict, dict) and "error" in verdict else None


def build_and_resolve(request: dict[str, Any]) -> None:
    """In the probe process: load or build the model and resolve its input shapes."""
    from kerasbench.usermodel import parse_input_shapes, parse_model_args
    from kerasbench.usermodel.precheck import split_list
    from kerasbench.usermodel.signature import resolve_shapes

    path = request["path"]
    shapes = parse_input_shapes(split_list(request["input_shapes"]))
    if path.endswith(".keras") or ":" not in path:
        from kerasbench.usermodel.load import load_model

        model = load_model(path, request["trust_code"], request["custom_objects"] or None)
    else:
        from kerasbench.usermodel.function import from_function

        model = from_function(path, parse_model_args(split_list(request["model_args"])))
    resolve_shapes(model, shapes)


def main(argv: list[str]) -> int:
    """``python -m kerasbench.usermodel.buildcheck REQUEST_JSON VERDICT_FILE``."""
    request, out = json.loads(argv[0]), Path(argv[1])
    try:
        build_and_resolve(request)
        error = None
    except UserModelError as exc:
        error = str(exc)
        if not error.startswith(("--model-path", "--custom-objects")):
            error = f"--model-path {request['ref']}: {error}"  # which model, in a suite of them
    except Exception as exc:  # the user's code raised: its first line, named
        first = (str(exc).strip().splitlines() or [""])[0]
        error = f"--model-path {request['ref']}: building it failed: {type(exc).__name__}: {first}"
    out.write_text(json.dumps({"error": error}), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
