"""Reads numpy arrays out of a pickle without ever handing it numpy's own constructors.

A pickle names the callables that rebuild its objects. The CIFAR-10 files name
``numpy.core.multiarray._reconstruct``, ``numpy.ndarray`` and ``numpy.dtype``
(numpy 2 writers also ``_codecs.encode``). Handing out the real ``ndarray`` and
``dtype`` lets a crafted file build a structured dtype whose fields are Python
objects, then point them at its own bytes: a forged pointer, a crash on first
use. So this unpickler hands out stand-ins that only *record* what the pickle
asks for; ``arrays_in`` then checks each record (a builtin numeric dtype named by
its code, a plain shape, raw bytes exactly as long as the shape needs) and only
then copies the bytes into a fresh numpy array. Nothing in the file can make an
array bigger than the bytes it carries.
"""

from __future__ import annotations

import codecs
import io
import math
import pickle
from typing import Any

import numpy as np

# Builtin numeric dtypes, by the codes numpy pickles them under; nothing with fields or objects.
NUMERIC_CODES = frozenset(
    "b1 i1 u1 i2 u2 i4 u4 i8 u8 f2 f4 f8".split()
)  # fmt: skip
BYTE_ORDERS = frozenset("|<>=")
MAX_DIMS = 4


class _Ndarray:
    """Stands for ``numpy.ndarray`` in a pickle: only ever an argument to ``_reconstruct``."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        raise pickle.UnpicklingError("numpy.ndarray given a state directly")


NDARRAY = _Ndarray()


def _text(value: Any) -> str | None:
    """A pickle's short text: str, or bytes from a Python 2 ``str`` under encoding="bytes"."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else None


class DtypeRecord:
    """What ``numpy.dtype(code, align, copy)`` plus its ``__setstate__`` asked for."""

    def __init__(self, code: Any, align: Any = False, copy: Any = True) -> None:
        code = _text(code)
        if code not in NUMERIC_CODES:
            raise pickle.UnpicklingError(f"dtype {code!r} is not a builtin numeric dtype")
        self.code = code
        self.order: str | None = None

    def __setstate__(self, state: Any) -> None:
        if self.order is not None:
            raise pickle.UnpicklingError("dtype state given twice")
        # Version 3: (3, byte order, subarray, names, fields, elsize, alignment, flags).
        if not isinstance(state, tuple) or len(state) != 8 or state[0] != 3:
            raise pickle.UnpicklingError("dtype state is not numpy's version-3 tuple")
        order = _text(state[1])
        if order not in BYTE_ORDERS:
            raise pickle.UnpicklingError(f"dtype byte order {state[1]!r}")
        if state[2:] != (None, None, None, -1, -1, 0):
            raise pickle.UnpicklingError("dtype with sub-arrays, fields or flags")
        self.order = order

    def dtype(self) -> np.dtype:
        order = "=" if self.order in (None, "|") else self.order
        return np.dtype(self.code).newbyteorder(order)


class ArrayRecord:
    """What ``_reconstruct(ndarray, ...)`` plus the array's ``__setstate__`` asked for."""

    def __init__(self) -> None:
        self.state: tuple[tuple[int, ...], DtypeRecord, bool, bytes] | None = None

    def __setstate__(self, state: Any) -> None:
        if self.state is not None:
            raise pickle.UnpicklingError("array state given twice")
        if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4:
            raise pickle.UnpicklingError("array state is not numpy's (shape, dtype, order, data)")
        shape, dtype, fortran, raw = state
        if not isinstance(shape, tuple) or len(shape) > MAX_DIMS:
            raise pickle.UnpicklingError(f"array shape {shape!r}")
        if not all(type(n) is int and n >= 0 for n in shape):
            raise pickle.UnpicklingError(f"array shape {shape!r}")
        if not isinstance(dtype, DtypeRecord):
            raise pickle.UnpicklingError("array dtype is not a numpy dtype")
        if not isinstance(raw, bytes):
            raise pickle.UnpicklingError("array data is not raw bytes (an object array?)")
        wanted = math.prod(shape) * np.dtype(dtype.code).itemsize
        if len(raw) != wanted:
            raise pickle.UnpicklingError(
                f"array of shape {shape} needs {wanted} bytes, the file holds {len(raw)}"
            )
        self.state = (shape, dtype, bool(fortran), raw)

    def array(self) -> np.ndarray:
        if self.state is None:
            raise pickle.UnpicklingError("array without data")
        shape, dtype, fortran, raw = self.state
        flat = np.frombuffer(raw, dtype=dtype.dtype())
        return flat.reshape(shape, order="F" if fortran else "C").copy()


def _reconstruct(cls: Any, shape: Any, typecode: Any) -> ArrayRecord:
    if cls is not NDARRAY:
        raise pickle.UnpicklingError("_reconstruct of something other than numpy.ndarray")
    return ArrayRecord()


def _latin1_encode(text: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as numpy-2 pickles use it (bytes saved as latin-1 text), and only that."""
    if not isinstance(text, str) or not isinstance(encoding, str):
        raise pickle.UnpicklingError("_codecs.encode of something other than text")
    if codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not admitted")
    return codecs.encode(text, "latin-1", "strict")


class ArrayUnpickler(pickle.Unpickler):
    """Resolves exactly the globals a pickled numeric array needs, to recording stand-ins."""

    GLOBALS = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): NDARRAY,
        ("numpy", "dtype"): DtypeRecord,
        ("_codecs", "encode"): _latin1_encode,
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refers to {module}.{name}, which is not admitted"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not admitted")


def load_dict(raw: bytes) -> dict[Any, Any]:
    """The dict a pickle holds, each array value made a checked numpy array.

    Raises ``pickle.UnpicklingError`` (or another ordinary exception of a
    malformed pickle) for anything else.
    """
    loaded = ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    if not isinstance(loaded, dict):
        raise pickle.UnpicklingError(f"holds a {type(loaded).__name__}, not a dict")
    return {k: v.array() if isinstance(v, ArrayRecord) else v for k, v in loaded.items()}
