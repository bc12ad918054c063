"""Crafted CIFAR-10 batches: refused with a DataError, never a crash or a huge allocation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import (
    cifar_arrays,
    cifar_py2_pickle,
    claims_more_than_it_holds,
    direct_ndarray_pickle,
    forged_object_pickle,
    write_cifar_py,
)

from kerasbench.data import cifar10
from kerasbench.data.cifar10 import DataError

ROOT = Path(__file__).resolve().parents[1]


def _batch(tmp_path: Path, raw: bytes) -> Path:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir(exist_ok=True)
    (folder / "data_batch_1").write_bytes(raw)
    return tmp_path


def test_forged_object_dtype_is_refused_without_crashing(tmp_path: Path) -> None:
    # In a child process: the unfixed loader dies of SIGSEGV here, which must fail
    # this test rather than take pytest down with it.
    root = _batch(tmp_path, forged_object_pickle())
    code = (
        "from kerasbench.data import cifar10\n"
        "try:\n    cifar10.load(__import__('sys').argv[1])\n"
        "except cifar10.DataError as exc:\n    print('refused:', exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"loader died with {done.returncode}: {done.stderr[-500:]}"
    assert "refused:" in done.stdout and "is not a builtin numeric dtype" in done.stdout


def test_tiny_file_claiming_200000_images_is_refused(tmp_path: Path) -> None:
    raw = claims_more_than_it_holds(200_000)
    assert len(raw) < 256
    with pytest.raises(DataError, match="array without data"):
        cifar10.load(_batch(tmp_path, raw))


def test_array_state_must_match_its_shape(tmp_path: Path) -> None:
    data, labels = cifar_arrays(2)
    raw = cifar_py2_pickle(data, labels)
    # Claim 3 images while carrying the bytes of 2.
    lying = raw.replace(b"(K\x02M\x00\x0ct", b"(K\x03M\x00\x0ct", 1)
    assert lying != raw
    with pytest.raises(DataError, match="needs 9216 bytes, the file holds 6144"):
        cifar10.load(_batch(tmp_path, lying))


def test_numpy_ndarray_cannot_be_called_directly(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a CIFAR-10 python batch"):
        cifar10.load(_batch(tmp_path, direct_ndarray_pickle()))


def test_more_than_a_batch_of_images_is_refused(tmp_path: Path) -> None:
    data = np.zeros((cifar10.MAX_BATCH_IMAGES + 1, cifar10.PIXELS), np.uint8)
    raw = cifar_py2_pickle(data, [0] * len(data))
    with pytest.raises(DataError, match="10001 images; a CIFAR-10 batch holds 10000"):
        cifar10.load(_batch(tmp_path, raw))


def test_huge_label_is_a_data_error(tmp_path: Path) -> None:
    data, _ = cifar_arrays(1)
    raw = cifar_py2_pickle(data, [0]).replace(b"](K\x00e", b"](\x8a\x09" + b"\x01" * 9 + b"e")
    with pytest.raises(DataError, match="is not a CIFAR-10 class"):
        cifar10.load(_batch(tmp_path, raw))


def test_fifo_and_oversized_binary_batches_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    (folder / "batches.meta.txt").write_text("airplane\n")
    os.mkfifo(folder / "data_batch_2.bin")
    with open(folder / "data_batch_1.bin", "wb") as f:
        f.truncate((cifar10.MAX_BATCH_IMAGES + 1) * cifar10.RECORD_BYTES)
    with pytest.raises(DataError, match="larger than"):
        cifar10.load_binary_batch(folder / "data_batch_1.bin")
    with pytest.raises(DataError, match="not a regular file"):
        cifar10.load_binary_batch(folder / "data_batch_2.bin")


@pytest.mark.parametrize("numpy2", [False, True])
def test_official_dialects_still_load(tmp_path: Path, numpy2: bool) -> None:
    write_cifar_py(tmp_path, batches=1, n=5, numpy2=numpy2)
    data = cifar10.load(tmp_path)
    expected, labels = cifar_arrays(5, seed=1)
    assert data.images.shape == (5, 3, 32, 32) and data.labels.tolist() == labels
    assert np.array_equal(data.images.reshape(5, -1), expected)
