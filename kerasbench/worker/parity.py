"""python -m kerasbench.worker.parity JOB_JSON OUT_JSON

One backend's half of ``kerasbench parity``: build the model, load the shared
initial weights (or, for the first backend, make and save them), turn every
dropout off, run plain SGD on the shared batches with ``train_on_batch``, and
write the loss of every step plus the loss after the last step. Weights and
batches are ``.npz`` files of plain arrays, loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from kerasbench.models import get_model
from kerasbench.spec import Spec
from kerasbench.worker import settings as explicit_settings
from kerasbench.worker.protocol import write_json_atomic


def disable_dropout(model: Any) -> int:
    """Set every Dropout layer's rate to 0 (randomness differs per backend); returns how many."""
    import keras

    count = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
            count += 1
        if isinstance(layer, keras.layers.MultiHeadAttention):
            layer._dropout = 0.0  # its attention-probability dropout
    return count


def run(job: dict[str, Any]) -> dict[str, Any]:
    import keras

    spec = Spec.from_dict(job["spec"], "parity spec")
    explicit_settings.seed(spec.seed)
    keras.config.set_image_data_format(spec.data_format)
    settings = explicit_settings.apply(spec)
    info = get_model(spec.model)
    model = info.build(spec)
    dropouts = disable_dropout(model)
    weights_path = Path(job["weights"])
    if job.get("make_weights"):
        np.savez(weights_path, *[np.asarray(w) for w in model.get_weights()])
    with np.load(weights_path, allow_pickle=False) as saved:
        model.set_weights([saved[f"arr_{i}"] for i in range(len(saved.files))])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=job["learning_rate"]),
        loss=info.make_loss(),
    )
    with np.load(job["batches"], allow_pickle=False) as batches:
        x, y = batches["x"], batches["y"]
    b = spec.batch_size
    losses = [
        float(model.train_on_batch(x[i * b : (i + 1) * b], y[i * b : (i + 1) * b]))
        for i in range(job["steps"])
    ]
    # The loss on the first batch after the last update: it sees every step's update.
    final = float(model.test_on_batch(x[:b], y[:b]))
    return {
        "status": "ok",
        "losses": losses,
        "final_loss": final,
        "dropout_layers_disabled": dropouts,
        "keras_version": keras.__version__,
        "settings": settings,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    try:
        out = run(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    except Exception as exc:
        traceback.print_exc()
        out = {"status": "failed", "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:500]}
    write_json_atomic(Path(argv[1]), out)
    return 0 if out["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
