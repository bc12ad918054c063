"""Reads the CIFAR-10 folder a user already has, in either official format, without running code.

- ``cifar-10-batches-py``: pickled dicts (``data``: uint8 array N x 3072,
  ``labels``: list of N ints). The official files are Python 2 protocol-2
  pickles that refer to ``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``
  and ``numpy.dtype``; pickles written under numpy 2 refer to
  ``numpy._core.multiarray._reconstruct`` and ``_codecs.encode``. A restricted
  unpickler (``npickle``) admits exactly those globals, as stand-ins that only
  record what the file asks for, and builds checked numeric arrays from them:
  a crafted file can neither run code nor forge object pointers on load.
- ``cifar-10-batches-bin``: records of 1 label byte + 3072 pixel bytes
  (10000 per official file), plus ``batches.meta.txt``.

Pixels are stored plane by plane (1024 red, 1024 green, 1024 blue, each 32x32
row-major). The training batches (``data_batch_*``) are read; ``test_batch``
is not, since a benchmark trains.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kerasbench.data import npickle

PY_DIR, BIN_DIR = "cifar-10-batches-py", "cifar-10-batches-bin"
SIDE, PIXELS = 32, 3 * 32 * 32
RECORD_BYTES = 1 + PIXELS
NUM_CLASSES = 10
# An official batch holds 10,000 images (a 31 MB pickle); nothing larger is read.
MAX_BATCH_IMAGES = 10_000
MAX_PICKLE_BYTES = 64 << 20


class DataError(ValueError):
    """A dataset file or folder that cannot be read as what it claims to be."""


def load_pickle_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One ``cifar-10-batches-py`` file as (uint8 N x 3 x 32 x 32, int32 labels)."""
    raw = _read_capped(path, MAX_PICKLE_BYTES)
    try:
        batch = npickle.load_dict(raw)
    except Exception as exc:  # any malformed or refused pickle is a data error
        raise DataError(f"{path}: not a CIFAR-10 python batch ({_one_line(exc)})") from None
    # Python 2 files decode their keys to bytes; Python 3 writers use str.
    keys = {k.decode("latin-1") if isinstance(k, bytes) else k: k for k in batch}
    if "data" not in keys or "labels" not in keys:
        raise DataError(f"{path}: not a CIFAR-10 python batch (no 'data' and 'labels')")
    data, labels = batch[keys["data"]], batch[keys["labels"]]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise DataError(f"{path}: 'data' is not a uint8 N x {PIXELS} array")
    if data.shape[1] != PIXELS:
        raise DataError(f"{path}: 'data' has {data.shape[1]} values per image, not {PIXELS}")
    if len(data) > MAX_BATCH_IMAGES:
        raise DataError(f"{path}: {len(data)} images; a CIFAR-10 batch holds {MAX_BATCH_IMAGES}")
    if not isinstance(labels, list) or not all(type(v) is int for v in labels):
        raise DataError(f"{path}: 'labels' is not a list of integers")
    if len(labels) != len(data):
        raise DataError(f"{path}: {len(labels)} labels for {len(data)} images")
    bad = [v for v in labels if not 0 <= v < NUM_CLASSES]
    if bad:  # checked here, since a huge Python int cannot become an int64 below
        raise DataError(f"{path}: label {bad[0]} is not a CIFAR-10 class (0..{NUM_CLASSES - 1})")
    return _checked(path, data, np.asarray(labels, dtype=np.int64))


def load_binary_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One ``cifar-10-batches-bin`` file as (uint8 N x 3 x 32 x 32, int32 labels)."""
    raw = np.frombuffer(_read_capped(path, MAX_BATCH_IMAGES * RECORD_BYTES), dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD_BYTES:
        raise DataError(
            f"{path}: {raw.size} bytes is not a whole number of {RECORD_BYTES}-byte records "
            f"(1 label byte + {PIXELS} pixel bytes; an official file holds 10000)"
        )
    records = raw.reshape(-1, RECORD_BYTES)
    return _checked(path, records[:, 1:], records[:, 0].astype(np.int64))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _read_capped(path: Path, limit: int) -> bytes:
    """The bytes of a regular file no larger than ``limit``; DataError otherwise."""
    try:
        # O_NONBLOCK: opening a FIFO planted under a batch's name must not wait for a writer.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise DataError(f"{path}: not a regular file")
            raw = f.read(limit + 1)
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise DataError(f"{path}: larger than {limit} bytes; not a CIFAR-10 batch")
    return raw


def _checked(path: Path, data: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bad = (labels < 0) | (labels >= NUM_CLASSES)
    if bad.any():
        raise DataError(
            f"{path}: label {int(labels[bad][0])} is not a CIFAR-10 class (0..{NUM_CLASSES - 1})"
        )
    images = np.ascontiguousarray(data).reshape(-1, 3, SIDE, SIDE)
    return images, labels.astype(np.int32)


@dataclass(frozen=True)
class Cifar10:
    """The training images of a CIFAR-10 folder: uint8 N x 3 x 32 x 32 (planes first) and labels."""

    images: np.ndarray
    labels: np.ndarray
    folder: Path
    format: str  # "python" or "binary"


def find_folder(path: Path) -> tuple[Path, str]:
    """The batches folder at or directly under ``path``, and its format."""
    for folder in (path, path / PY_DIR, path / BIN_DIR):
        if (folder / "data_batch_1").is_file():
            return folder, "python"
        if (folder / "data_batch_1.bin").is_file():
            return folder, "binary"
    raise DataError(
        f"{path}: no CIFAR-10 batches here (expected {PY_DIR}/data_batch_1 "
        f"or {BIN_DIR}/data_batch_1.bin)"
    )


def load(path: Path | str) -> Cifar10:
    """Every ``data_batch_N`` file of the CIFAR-10 folder at (or directly under) ``path``."""
    folder, fmt = find_folder(Path(path))
    if fmt == "python":
        files = sorted(folder.glob("data_batch_[0-9]"), key=lambda p: p.name)
        parts = [load_pickle_batch(f) for f in files]
    else:
        files = sorted(folder.glob("data_batch_[0-9].bin"), key=lambda p: p.name)
        meta = folder / "batches.meta.txt"
        if not meta.is_file():
            raise DataError(f"{meta}: missing (the binary format ships it beside the batches)")
        parts = [load_binary_batch(f) for f in files]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return Cifar10(images=images, labels=labels, folder=folder, format=fmt)
