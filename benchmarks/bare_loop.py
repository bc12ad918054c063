"""KERAS_BACKEND=jax python benchmarks/bare_loop.py BATCH STEPS WARMUP

A hand-written train_on_batch loop on the classic CIFAR-10 CNN, written
without kerasbench, as the reference that harness_overhead.py compares
kerasbench against. Prints one JSON line: {"samples_per_sec": ...}.
"""

import json
import sys
import time

import keras
import numpy as np
from keras import layers


def main() -> None:
    batch, steps, warmup = (int(a) for a in sys.argv[1:4])
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(0.25),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((batch, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, size=(batch,), dtype=np.int32)
    for _ in range(1 + warmup):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)  # returns host values: each step ends synchronised
    elapsed = time.perf_counter() - start
    print(json.dumps({"samples_per_sec": batch * steps / elapsed}))


if __name__ == "__main__":
    main()
