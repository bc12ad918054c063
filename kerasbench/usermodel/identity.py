"""Which user model ran: a content hash, its parameter count and its input signature.

Two results under one model name with different hashes are different models; ``compare``
must say so rather than match them. The hash covers what defines the model: the
``.keras`` file's bytes, or the builder's Python source plus the function's name and the
keyword arguments it was called with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kerasbench.usermodel.signature import input_signature

_CHUNK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """The sha256 hex digest of the file ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def function_sha256(
    source: str | Path, func_name: str, kwargs: Mapping[str, Any] | None = None
) -> str:
    """The sha256 of a builder: its source file's bytes, its name and its keyword arguments."""
    digest = hashlib.sha256(Path(source).read_bytes())
    digest.update(b"\0" + func_name.encode())
    digest.update(b"\0" + json.dumps(dict(kwargs or {}), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def model_identity(model: Any, sha256: str, origin: str) -> dict[str, Any]:
    """The JSON-able identity of a built ``model``: hash, origin, parameters, inputs."""
    return {
        "sha256": sha256,
        "origin": origin,  # the .keras path or the FILE:FUNCTION reference as given
        "params": int(model.count_params()),
        "inputs": input_signature(model),
    }
