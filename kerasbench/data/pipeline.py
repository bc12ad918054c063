"""Input pipelines: how a run's batches travel from a Source to the model (``--input``).

- ``arrays``: every distinct batch made before timing and kept in memory; the
  timed loop only slices (the synthetic default: it measures the model alone).
- ``generator``: a ``keras.utils.PyDataset`` that makes each batch on demand,
  with ``workers`` parallel workers (threads, or processes with
  ``use_multiprocessing``) through Keras' own enqueuer: the successor of
  Keras 2's ``fit_generator``.
- ``native``: the backend's own loader. TensorFlow: ``tf.data`` with a parallel
  map (AUTOTUNE unless ``workers`` is set) and prefetching. PyTorch: a
  ``torch.utils.data.DataLoader`` with ``workers`` worker processes and
  ``pin_memory`` when CUDA is present. JAX: a ``grain`` dataset with
  ``workers`` read threads (processes with ``use_multiprocessing``) and
  prefetching.

Every loader reads the same Source, so all make identical batches; they differ
in how the work is spread and overlapped with the model. A Feed yields exactly
the run's number of batches, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kerasbench.backends import BACKENDS
from kerasbench.data.sources import Opened, Source, loader_workers
from kerasbench.data.synthetic import MAX_ARRAY_BYTES
from kerasbench.spec import Spec

NATIVE_LOADERS = {"tensorflow": "tf.data", "torch": "torch DataLoader", "jax": "grain"}


@dataclass
class RunSamples:
    """The k-th sample of a run, for loaders that batch by themselves (DataLoader, grain)."""

    source: Source
    order: np.ndarray
    length: int

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.source.sample(int(self.order[int(k) % len(self.order)]))


@dataclass
class RunBatches:
    """The k-th batch of a run, for loaders that ask for whole batches (PyDataset, tf.data)."""

    source: Source
    order: np.ndarray
    batch_size: int
    length: int  # batches

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        start = int(k) * self.batch_size
        positions = np.arange(start, start + self.batch_size) % len(self.order)
        return self.source.batch(self.order[positions])


@dataclass
class Feed:
    """A run's input: what ``fit``/``predict`` take, and a one-pass iterator for step loops."""

    kind: str  # arrays | generator | native
    loader: Any  # an object model.fit accepts; for arrays, the (x, y) tuple
    batches: Callable[[], Iterator[tuple[Any, Any]]]  # a fresh iterator over the run's batches
    settings: dict[str, Any] = field(default_factory=dict)


def open_feed(opened: Opened, spec: Spec, backend: str, n_batches: int) -> Feed:
    """The ``spec.input`` pipeline over ``opened``, yielding ``n_batches`` batches of the run."""
    settings: dict[str, Any] = {"input": spec.input, **opened.notes}
    if spec.input == "arrays":
        return _arrays(opened, spec, n_batches, settings)
    workers = loader_workers(spec)
    settings["loader_workers"] = workers
    batches = RunBatches(opened.source, opened.order, spec.batch_size, n_batches)
    if spec.input == "generator":
        from kerasbench.data.keras_loader import generator_feed

        settings["loader"] = (
            f"keras.utils.PyDataset, {workers} "
            f"{'processes' if spec.use_multiprocessing else 'threads'}"
        )
        return generator_feed(batches, workers, spec.use_multiprocessing, settings)
    # The backend's own loader, as its entry in kerasbench.backends declares it.
    loader = BACKENDS[backend].native_input
    if loader == "tf.data":
        return _tf_data(batches, spec, settings)
    samples = RunSamples(opened.source, opened.order, n_batches * spec.batch_size)
    if loader == "DataLoader":
        return _torch_loader(samples, spec, workers, settings)
    if loader == "grain":
        return _grain(samples, spec, workers, settings)
    raise ValueError(f"backend {backend} has no native loader; use --input arrays or generator")


def _arrays(opened: Opened, spec: Spec, n_batches: int, settings: dict[str, Any]) -> Feed:
    x0, _ = opened.source.sample(int(opened.order[0]))
    per_batch = max(1, x0.nbytes * spec.batch_size)
    n_distinct = max(1, min(n_batches, MAX_ARRAY_BYTES // per_batch))
    positions = np.arange(n_distinct * spec.batch_size) % len(opened.order)
    x, y = opened.source.batch(opened.order[positions])
    settings["distinct_batches"] = n_distinct
    b = spec.batch_size

    def batches() -> Iterator[tuple[Any, Any]]:
        for k in range(n_batches):
            j = (k % n_distinct) * b
            yield x[j : j + b], y[j : j + b]

    return Feed("arrays", (x, y), batches, settings)


def _tf_data(batches: RunBatches, spec: Spec, settings: dict[str, Any]) -> Feed:
    import tensorflow as tf

    x0, y0 = batches[0]
    parallel = spec.workers or tf.data.AUTOTUNE

    def load(k: Any) -> tuple[np.ndarray, np.ndarray]:
        return batches[int(k)]

    def make(k: Any) -> tuple[Any, Any]:
        # Decoding is Python (Pillow, the same for every loader); tf.data runs
        # it on its own thread pool, and Pillow releases the GIL while decoding.
        x, y = tf.numpy_function(load, [k], (tf.as_dtype(x0.dtype), tf.as_dtype(y0.dtype)))
        x.set_shape(x0.shape)
        y.set_shape(y0.shape)
        return x, y

    dataset = (
        tf.data.Dataset.range(len(batches))
        .map(make, num_parallel_calls=parallel, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    settings["loader"] = (
        f"tf.data map(num_parallel_calls={'AUTOTUNE' if not spec.workers else spec.workers})"
        ".prefetch(AUTOTUNE)"
    )
    return Feed("native", dataset, lambda: iter(dataset), settings)


def _torch_loader(samples: RunSamples, spec: Spec, workers: int, settings: dict[str, Any]) -> Feed:
    import torch

    pin = torch.cuda.is_available()
    loader = torch.utils.data.DataLoader(
        samples,
        batch_size=spec.batch_size,
        shuffle=False,  # the run's order is already a seeded permutation
        drop_last=True,
        num_workers=workers,
        pin_memory=pin,
    )
    settings["loader"] = f"torch DataLoader(num_workers={workers}, pin_memory={pin})"
    return Feed("native", loader, lambda: iter(loader), settings)


def _grain(samples: RunSamples, spec: Spec, workers: int, settings: dict[str, Any]) -> Feed:
    import grain

    dataset = (
        grain.MapDataset.source(samples)
        .batch(spec.batch_size, drop_remainder=True)
        .to_iter_dataset(grain.ReadOptions(num_threads=workers, prefetch_buffer_size=2 * workers))
    )
    how = f"grain MapDataset, {workers} read threads"
    if spec.use_multiprocessing:
        dataset = dataset.mp_prefetch(grain.MultiprocessingOptions(num_workers=workers))
        how = f"grain MapDataset, {workers} processes (mp_prefetch)"
    settings["loader"] = how
    return Feed("native", dataset, lambda: iter(dataset), settings)
