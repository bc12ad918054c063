"""Fuzzing every reader of outside data this package owns, bounded in time.

Property for each: the input is read into a valid result, or refused with the
module's own error (DataError, UnreadableImage, StoreError) carrying a one-line
message; never another exception, a crash or a hang. Memory: nothing built from a
file is larger than the bytes the file carries (CIFAR), or than the image size
asked for (images). Case counts are in ``CASES``; the whole file runs in well
under a minute on two shared cores.
"""

from __future__ import annotations

import atexit
import io
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
from data_fixtures import cifar_arrays, cifar_py2_pickle
from factories import make_result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasbench.data import cifar10, imagefolder, sources
from kerasbench.data.cifar10 import DataError
from kerasbench.data.text import TextWindows, text_ids
from kerasbench.store import Store, StoreError

CASES = {"cifar_pickle": 500, "cifar_binary": 100, "image": 300, "text": 200, "store": 100}
SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "database": None}
# In memory where there is a tmpfs: a store's fsyncs on a busy disk cost seconds each.
_SHM = Path("/dev/shm")
WORK = Path(tempfile.mkdtemp(prefix="kerasbench-fuzz-", dir=_SHM if _SHM.is_dir() else None))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)


def _one_line(exc: Exception) -> None:
    assert str(exc) and "\n" not in str(exc), repr(exc)


def _mutate(base: bytes, data: st.DataObject) -> bytes:
    """``base`` with a few random bytes replaced, inserted or cut away."""
    raw = bytearray(base)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "insert", "cut"]))
        at = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[at] = data.draw(st.integers(0, 255))
        elif op == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            del raw[at : at + data.draw(st.integers(1, 64))]
    return bytes(raw)


SMALL_BATCH = cifar_py2_pickle(*cifar_arrays(2))
NUMPY2_BATCH = __import__("pickle").dumps(
    {"data": cifar_arrays(2)[0], "labels": [1, 2]}, protocol=2
)


@settings(max_examples=CASES["cifar_pickle"], **SETTINGS)
@given(st.data())
def test_cifar_pickles(data: st.DataObject) -> None:
    base = data.draw(st.sampled_from([SMALL_BATCH, NUMPY2_BATCH]))
    raw = _mutate(base, data)
    path = WORK / "data_batch_1"
    path.write_bytes(raw)
    try:
        images, labels = cifar10.load_pickle_batch(path)
    except DataError as exc:
        _one_line(exc)
        return
    assert images.dtype == np.uint8 and images.shape[1:] == (3, 32, 32)
    assert images.nbytes <= len(raw) and len(labels) == len(images)


@settings(max_examples=CASES["cifar_binary"], **SETTINGS)
@given(st.binary(max_size=3 * cifar10.RECORD_BYTES))
def test_cifar_binaries(raw: bytes) -> None:
    path = WORK / "data_batch_1.bin"
    path.write_bytes(raw)
    try:
        images, labels = cifar10.load_binary_batch(path)
    except DataError as exc:
        _one_line(exc)
        return
    assert images.nbytes < len(raw) and labels.max() < 10


def _image_bases() -> list[bytes]:
    from PIL import Image

    rng = np.random.default_rng(0)
    picture = Image.fromarray(rng.integers(0, 256, (12, 9, 3), dtype=np.uint8))
    out = []
    for fmt, mode in (
        ("PNG", "RGB"),
        ("JPEG", "RGB"),
        ("GIF", "P"),
        ("BMP", "L"),
        ("TIFF", "CMYK"),
    ):
        buffer = io.BytesIO()
        picture.convert(mode).save(buffer, fmt)
        out.append(buffer.getvalue())
    return out


IMAGES = _image_bases()


@settings(max_examples=CASES["image"], **SETTINGS)
@given(st.data())
def test_images(data: st.DataObject) -> None:
    raw = _mutate(data.draw(st.sampled_from(IMAGES)), data)
    path = WORK / "image.png"
    path.write_bytes(raw)
    preprocess = data.draw(st.sampled_from(["resize_crop", "resize256"]))
    try:
        image = imagefolder.decode(path, preprocess, 16)
    except imagefolder.UnreadableImage as exc:
        _one_line(exc)
        return
    assert image.shape == (16, 16, 3) and image.dtype == np.uint8


@settings(max_examples=CASES["text"], **SETTINGS)
@given(st.binary(max_size=300), st.integers(1, 12), st.integers(1, 4))
def test_text(raw: bytes, seq_len: int, step: int) -> None:
    path = WORK / "text.txt"
    path.write_bytes(raw)
    try:
        text = sources.read_text(path)
        ids, vocab = text_ids(text)
        windows = TextWindows(ids, seq_len, step)
    except DataError as exc:
        _one_line(exc)
        return
    except ValueError as exc:  # the message the source prefixes with the path
        _one_line(exc)
        return
    x, y = windows.windows(np.arange(len(windows)))
    assert x.shape == (len(windows), seq_len) and (x < vocab).all() and (y < vocab).all()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
INT64 = st.integers(-(2**63), 2**63 - 1)  # what an SQLite cell holds
RECORD = make_result(1000.0).to_dict()


def _records() -> st.SearchStrategy[object]:
    field = st.sampled_from(sorted(RECORD))
    tweaked = st.tuples(field, JSON_VALUES).map(lambda kv: json.dumps({**RECORD, kv[0]: kv[1]}))
    dropped = field.map(lambda k: json.dumps({n: v for n, v in RECORD.items() if n != k}))
    anything = st.one_of(st.text(max_size=40), INT64, st.binary(max_size=20))
    return st.one_of(tweaked, dropped, anything, JSON_VALUES.map(json.dumps))


@settings(max_examples=CASES["store"], **SETTINGS)
@given(st.data())
def test_stores_with_arbitrary_rows(data: st.DataObject) -> None:
    path = Path(tempfile.mkdtemp(dir=WORK)) / "r.db"  # its own folder: -wal, -shm too
    with Store(path) as store:
        store.begin_run("quick", "", ["kerasbench"], {"hostname": "h"})
    conn = sqlite3.connect(path)
    for record in data.draw(st.lists(_records(), min_size=1, max_size=3)):
        conn.execute(
            "INSERT INTO results (point_key, model, backend, mode, status, record_json)"
            " VALUES ('k', 'm', 'b', 'train', 'ok', ?)",
            (record,),
        )
    column = data.draw(st.sampled_from(["host_json", "started_at", "label", "specs_json"]))
    value = data.draw(st.one_of(st.text(max_size=20), INT64, st.none()))
    if value is None and column in ("started_at", "label"):
        value = 0  # NOT NULL columns; a wrong type is what is tried there
    conn.execute(f"UPDATE runs SET {column} = ?", (value,))
    conn.commit()
    conn.close()
    try:
        with Store(path, create=False) as store:
            results = store.results(latest=data.draw(st.booleans()))
            runs = store.runs()
    except StoreError as exc:
        _one_line(exc)
        return
    assert all(r.batch_size >= 1 for r in results) and all(isinstance(r.host, dict) for r in runs)
