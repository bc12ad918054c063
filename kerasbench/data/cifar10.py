"""Reads the CIFAR-10 folder a user already has, in either official format, without running code.

- ``cifar-10-batches-py``: pickled dicts (``data``: uint8 array N x 3072,
  ``labels``: list of N ints). The official files are Python 2 protocol-2
  pickles that refer to ``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``
  and ``numpy.dtype``; pickles written under numpy 2 refer to
  ``numpy._core.multiarray._reconstruct`` and ``_codecs.encode``. A restricted
  unpickler admits exactly those globals and refuses everything else, so that
  a crafted file cannot run code on load.
- ``cifar-10-batches-bin``: records of 1 label byte + 3072 pixel bytes
  (10000 per official file), plus ``batches.meta.txt``.

Pixels are stored plane by plane (1024 red, 1024 green, 1024 blue, each 32x32
row-major). The training batches (``data_batch_*``) are read; ``test_batch``
is not, since a benchmark trains.
"""

from __future__ import annotations

import codecs
import importlib
import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PY_DIR, BIN_DIR = "cifar-10-batches-py", "cifar-10-batches-bin"
SIDE, PIXELS = 32, 3 * 32 * 32
RECORD_BYTES = 1 + PIXELS
NUM_CLASSES = 10


class DataError(ValueError):
    """A dataset file or folder that cannot be read as what it claims to be."""


def _reconstruct() -> Any:
    # numpy 2 moved numpy.core to numpy._core (importing numpy.core warns there).
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            return importlib.import_module(module)._reconstruct
        except ImportError:
            continue
    raise ImportError("numpy has no multiarray._reconstruct")  # pragma: no cover


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as numpy-2 pickles use it (bytes saved as latin-1 text), and only that."""
    if codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not admitted")
    return codecs.encode(text, encoding, errors)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals a CIFAR-10 batch needs; anything else raises."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"refers to {module}.{name}, which a CIFAR-10 batch never does"
            )
        if name == "_reconstruct":
            return _reconstruct()
        if module == "_codecs":
            return _latin1_encode
        return {"ndarray": np.ndarray, "dtype": np.dtype}[name]

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not admitted")


def load_pickle_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One ``cifar-10-batches-py`` file as (uint8 N x 3 x 32 x 32, int32 labels)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        batch = RestrictedUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # any malformed or refused pickle is a data error
        raise DataError(f"{path}: not a CIFAR-10 python batch ({exc})") from None
    if not isinstance(batch, dict):
        raise DataError(f"{path}: not a CIFAR-10 python batch (a {type(batch).__name__})")
    # Python 2 files decode their keys to bytes; Python 3 writers use str.
    keys = {k.decode("latin-1") if isinstance(k, bytes) else k: k for k in batch}
    if "data" not in keys or "labels" not in keys:
        raise DataError(f"{path}: not a CIFAR-10 python batch (no 'data' and 'labels')")
    data, labels = batch[keys["data"]], batch[keys["labels"]]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise DataError(f"{path}: 'data' is not a uint8 N x {PIXELS} array")
    if data.shape[1] != PIXELS:
        raise DataError(f"{path}: 'data' has {data.shape[1]} values per image, not {PIXELS}")
    try:
        y = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise DataError(f"{path}: 'labels' is not a list of integers") from None
    if y.shape != (len(data),):
        raise DataError(f"{path}: {len(y)} labels for {len(data)} images")
    return _checked(path, data, y)


def load_binary_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One ``cifar-10-batches-bin`` file as (uint8 N x 3 x 32 x 32, int32 labels)."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if raw.size == 0 or raw.size % RECORD_BYTES:
        raise DataError(
            f"{path}: {raw.size} bytes is not a whole number of {RECORD_BYTES}-byte records "
            f"(1 label byte + {PIXELS} pixel bytes; an official file holds 10000)"
        )
    records = raw.reshape(-1, RECORD_BYTES)
    return _checked(path, records[:, 1:], records[:, 0].astype(np.int64))


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
