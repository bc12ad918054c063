"""KERAS_BACKEND=jax python benchmarks/bare_loop.py BATCH STEPS WARMUP

A hand-written train_on_batch loop on the classic CIFAR-10 CNN, written
without kerasbench, as the reference that harness_overhead.py compares
kerasbench against. Prints one JSON line: {"samples_per_sec": ...}.

It feeds what a kerasbench worker feeds: a distinct batch for every step
(kerasbench makes 1 + warmup + steps batches and slices them in turn), not one
batch over and over, which stays in the CPU caches and so can be faster by
itself. The comparison is of harnesses, so the data must be the same.
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
    n = 1 + warmup + steps
    x = rng.random((n * batch, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, size=(n * batch,), dtype=np.int32)
    for i in range(1 + warmup):
        model.train_on_batch(x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch])
    start = time.perf_counter()
    for i in range(1 + warmup, n):  # returns host values: each step ends synchronised
        model.train_on_batch(x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch])
    elapsed = time.perf_counter() - start
    print(json.dumps({"samples_per_sec": batch * steps / elapsed}))


if __name__ == "__main__":
    main()
