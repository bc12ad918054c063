"""The Keras side of the equal-work checks, run in its own process (Keras fixes its backend).

``python -m kerasbench.native.keras_reference OUT_DIR [--weights=A,B] MODEL...`` (with
``KERAS_BACKEND`` set) builds each kerasbench model with its defaults and
writes ``OUT_DIR/reference.json``: per model its parameter counts, forward
FLOPs per sample (kerasbench/worker/flops.py), sample shape, classes and
hparams. With ``--weights=A,B`` it also writes ``OUT_DIR/<model>.npz`` (no
pickles): the model's weights in ``get_weights()`` order, a probe batch and
the model's inference output on it, for the weight-copy checks.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

PROBE_BATCH = 4


def describe(name: str, save_weights_to: Path | None = None) -> dict[str, Any]:
    """Counts and FLOPs of the Keras model ``name``; its weights and a probe too when asked."""
    import keras

    from kerasbench.models import get_model
    from kerasbench.spec import Spec
    from kerasbench.worker import flops

    info = get_model(name)
    spec = Spec(model=name, backend=keras.backend.backend()).resolved()
    model = info.build(spec)
    shape = info.input_shape(spec)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    counted = flops.count_forward(model, np.zeros((1, *shape), dtype="float32"))
    if save_weights_to is not None:
        probe = np.random.default_rng(0).random((PROBE_BATCH, *shape), dtype=np.float32)
        output = keras.ops.convert_to_numpy(model(probe, training=False))
        weights = {f"w{i:03d}": w for i, w in enumerate(model.get_weights())}
        np.savez(save_weights_to / f"{name}.npz", probe=probe, output=output, **weights)
    return {
        "trainable": trainable,
        "non_trainable": non_trainable,
        "count_params": int(model.count_params()),
        "forward_flops_per_sample": counted.flops,
        "flops_uncounted": counted.uncounted,
        "input_shape": list(shape),
        "num_classes": info.num_classes,
        "hparams": dict(info.hparams),
        "native_name": info.tiny_of or info.name,
    }


def main(argv: list[str]) -> int:
    flags = [a for a in argv if a.startswith("--weights=")]
    args = [a for a in argv if not a.startswith("--weights=")]
    if len(args) < 2:
        print("usage: keras_reference OUT_DIR [--weights=A,B] MODEL...", file=sys.stderr)
        return 2
    with_weights = {m for flag in flags for m in flag.split("=", 1)[1].split(",")}
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    found = {name: describe(name, out if name in with_weights else None) for name in args[1:]}
    (out / "reference.json").write_text(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
