"""Small dataset fixtures for tests and benchmarks: CIFAR-10 in both formats, ImageFolders.

The Python-2 CIFAR-10 pickle is written opcode by opcode, as cPickle wrote the
official files: protocol 2, byte strings as ``SHORT_BINSTRING``/``BINSTRING``,
and arrays rebuilt through ``numpy.core.multiarray._reconstruct``. No Python 3
pickler writes that form (it saves bytes through ``_codecs.encode``).
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np

PIXELS = 3 * 32 * 32


def cifar_arrays(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random CIFAR-10 rows (uint8 n x 3072, planes first) and labels 0..9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, PIXELS), dtype=np.uint8), rng.integers(0, 10, n).tolist()


def _string(b: bytes) -> bytes:
    """A Python 2 ``str``: SHORT_BINSTRING or BINSTRING (bytes under encoding="bytes")."""
    if len(b) < 256:
        return b"U" + bytes([len(b)]) + b
    return b"T" + struct.pack("<i", len(b)) + b


def _int(v: int) -> bytes:
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if 0 <= v < 65536:
        return b"M" + struct.pack("<H", v)
    return b"J" + struct.pack("<i", v)


def _py2_uint8_array(array: np.ndarray) -> bytes:
    """A uint8 C-order ndarray the way numpy under Python 2 pickled it."""
    out = b"cnumpy.core.multiarray\n_reconstruct\n"
    out += b"cnumpy\nndarray\n" + _int(0) + b"\x85" + _string(b"b") + b"\x87R"
    state = b"(" + _int(1) + b"(" + b"".join(_int(d) for d in array.shape) + b"t"
    state += b"cnumpy\ndtype\n" + _string(b"u1") + _int(0) + _int(1) + b"\x87R"
    state += b"(" + _int(3) + _string(b"|") + b"NNN" + _int(-1) + _int(-1) + _int(0) + b"tb"
    state += b"\x89" + _string(array.tobytes()) + b"t"
    return out + state + b"b"


def cifar_py2_pickle(data: np.ndarray, labels: list[int], name: bytes = b"batch 1") -> bytes:
    """A ``cifar-10-batches-py`` batch byte for byte in the official files' pickle dialect."""
    out = b"\x80\x02}q\x01(" + _string(b"data") + _py2_uint8_array(data)
    out += _string(b"labels") + b"](" + b"".join(_int(v) for v in labels) + b"e"
    out += _string(b"batch_label") + _string(b"training " + name)
    out += _string(b"filenames") + b"](" + b"".join(_string(b"f%d.png" % i) for i in labels) + b"e"
    return out + b"u."


def write_cifar_py(folder: Path, batches: int = 2, n: int = 20, numpy2: bool = False) -> Path:
    """``folder/cifar-10-batches-py`` with ``batches`` files of ``n`` images each.

    ``numpy2``: the files are what ``pickle.dumps(..., protocol=2)`` writes under
    numpy 2 (``numpy._core.multiarray`` and ``_codecs.encode``) instead.
    """
    root = folder / "cifar-10-batches-py"
    root.mkdir(parents=True)
    for i in range(1, batches + 1):
        data, labels = cifar_arrays(n, seed=i)
        if numpy2:
            raw = pickle.dumps({"data": data, "labels": labels}, protocol=2)
        else:
            raw = cifar_py2_pickle(data, labels, b"batch %d" % i)
        (root / f"data_batch_{i}").write_bytes(raw)
    (root / "test_batch").write_bytes(cifar_py2_pickle(*cifar_arrays(n, seed=99)))
    return root


def write_cifar_bin(folder: Path, batches: int = 2, n: int = 20) -> Path:
    """``folder/cifar-10-batches-bin``: records of 1 label byte + 3072 pixel bytes."""
    root = folder / "cifar-10-batches-bin"
    root.mkdir(parents=True)
    for i in range(1, batches + 1):
        data, labels = cifar_arrays(n, seed=i)
        records = np.concatenate([np.asarray(labels, np.uint8)[:, None], data], axis=1)
        (root / f"data_batch_{i}.bin").write_bytes(records.tobytes())
    names = "airplane automobile bird cat deer dog frog horse ship truck".split()
    (root / "batches.meta.txt").write_text("\n".join(names) + "\n")
    return root


def write_imagefolder(root: Path, size: tuple[int, int] = (50, 38), corrupt: bool = True) -> Path:
    """Two classes with every image mode the loader must turn into RGB, and one corrupt file.

    ``cat``: RGB JPEG, grayscale JPEG, CMYK JPEG; ``dog``: palette PNG, PNG
    content under a ``.JPEG`` name, 16-bit grayscale PNG, and (``corrupt``) a
    truncated JPEG.
    """
    from PIL import Image

    rng = np.random.default_rng(0)
    w, h = size
    rgb = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
    (root / "cat").mkdir(parents=True)
    (root / "dog").mkdir()
    rgb.save(root / "cat" / "rgb.JPEG", "JPEG")
    rgb.convert("L").save(root / "cat" / "gray.JPEG", "JPEG")
    rgb.convert("CMYK").save(root / "cat" / "cmyk.JPEG", "JPEG")
    rgb.convert("P").save(root / "dog" / "palette.png", "PNG")
    rgb.save(root / "dog" / "png_inside.JPEG", "PNG")
    Image.fromarray((rng.integers(0, 65535, (h, w))).astype(np.uint16)).save(
        root / "dog" / "gray16.png"
    )
    (root / "dog" / "notes.txt").write_text("not an image; ignored")
    if corrupt:
        whole = (root / "cat" / "rgb.JPEG").read_bytes()
        (root / "dog" / "truncated.JPEG").write_bytes(whole[: len(whole) // 3])
    return root


# --- hostile CIFAR-10 pickles (tests/test_hostile_cifar.py, benchmarks/hostile_inputs.py) ---


def _py2_dtype(code: bytes, fields: bytes = b"N", flags: int = 0) -> bytes:
    """``numpy.dtype(code)`` and its version-3 state, with optional names/fields opcodes."""
    out = b"cnumpy\ndtype\n" + _string(code) + _int(0) + _int(1) + b"\x87R"
    state = b"(" + _int(3) + _string(b"|") + b"N" + fields + _int(8) + _int(1) + _int(flags)
    return out + state + b"tb"


def forged_object_pickle() -> bytes:
    """A batch whose labels are a structured array with one object field over file bytes.

    The dtype's state names a field of dtype ``O`` and clears its object flags,
    so numpy trusts eight bytes of the file (``AAAAAAAA``) as a PyObject pointer:
    reading the labels dereferences 0x4141414141414141 and crashes.
    """
    obj = b"cnumpy\ndtype\n" + _string(b"O8") + _int(0) + _int(1) + b"\x87R"
    fields = b"(" + _string(b"a") + b"t}" + _string(b"a") + b"(" + obj + _int(0) + b"ts"
    dtype = b"cnumpy\ndtype\n" + _string(b"V8") + _int(0) + _int(1) + b"\x87R"
    dtype += b"(" + _int(3) + _string(b"|") + b"N" + fields + _int(8) + _int(1) + _int(0) + b"tb"
    arr = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + _int(0) + b"\x85"
    arr += _string(b"b") + b"\x87R(" + _int(1) + b"(" + _int(1) + b"t" + dtype
    arr += b"\x89" + _string(b"A" * 8) + b"tb"
    data, _ = cifar_arrays(1)
    out = b"\x80\x02}q\x01(" + _string(b"data") + _py2_uint8_array(data)
    return out + _string(b"labels") + arr + b"u."


def claims_more_than_it_holds(images: int = 200_000) -> bytes:
    """A tiny batch whose ``data`` is ``_reconstruct(ndarray, (images, 3072), 'B')`` with no state.

    The real ``_reconstruct`` allocates the whole (uninitialised) array.
    """
    arr = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
    arr += b"(" + _int(images) + _int(PIXELS) + b"t" + _string(b"B") + b"\x87R"
    labels = b"](" + _int(0) * 4 + b"e"
    return b"\x80\x02}q\x01(" + _string(b"data") + arr + _string(b"labels") + labels + b"u."


def direct_ndarray_pickle() -> bytes:
    """A batch that calls ``numpy.ndarray((1,), dtype('u1'))`` itself (REDUCE on ndarray)."""
    call = b"cnumpy\nndarray\n(" + _int(1) + b"\x85" + _py2_dtype(b"u1") + b"tR"
    return b"\x80\x02}q\x01(" + _string(b"data") + call + _string(b"labels") + b"]u."
