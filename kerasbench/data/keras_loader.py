"""The ``generator`` input: a ``keras.utils.PyDataset`` read by Keras' own parallel enqueuer.

Imports Keras at module level, so only the worker imports this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras

from kerasbench.data.pipeline import Feed, RunBatches


class BatchPyDataset(keras.utils.PyDataset):
    """The run's batches as a PyDataset: ``__getitem__(k)`` makes batch ``k`` on demand."""

    def __init__(self, batches: RunBatches, workers: int, use_multiprocessing: bool) -> None:
        super().__init__(
            workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=2 * workers
        )
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, k: int) -> tuple[Any, Any]:
        return self.batches[k]


def iterate(dataset: BatchPyDataset) -> Iterator[tuple[Any, Any]]:
    """The batches in order, made by the same enqueuer (worker pool) that ``model.fit`` uses.

    ``train_on_batch`` has no loader argument, so this reaches for the adapter
    Keras' own fit builds around a PyDataset (a private module: there is no
    public way to run a PyDataset's workers outside fit).
    """
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    return PyDatasetAdapter(dataset, shuffle=False).get_numpy_iterator()


def generator_feed(
    batches: RunBatches, workers: int, use_multiprocessing: bool, settings: dict[str, Any]
) -> Feed:
    dataset = BatchPyDataset(batches, workers, use_multiprocessing)
    return Feed("generator", dataset, lambda: iterate(dataset), settings)
