"""Results stores: an SQLite file (the embedded default) or a PostgreSQL database.

``open_store(target)`` opens either from what the user gave (``--results`` or
``$KERASBENCH_RESULTS``): a ``postgresql://`` (or ``postgres://``) URL opens
``postgres.PostgresStore``; any other ``scheme://`` is refused in one line; anything
else is a file path for ``sqlite.Store``. Both keep the same tables and guarantees:
each result committed in its own transaction the moment its point ends, a store
marked as kerasbench's with its schema version, foreign or newer stores refused and
never written to, older ones migrated in one transaction, several writers at once.
``kerasbench.store.copy`` moves runs and results between any two of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kerasbench.store.interface import RunInfo, now_iso
from kerasbench.store.schema import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_V1,
    SCHEMA_VERSION,
    StoreError,
)
from kerasbench.store.sqlite import URL, Store, default_path

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA_V1",
    "SCHEMA_VERSION",
    "PG_SCHEMES",
    "RunInfo",
    "Store",
    "StoreError",
    "default_path",
    "default_target",
    "is_url",
    "now_iso",
    "open_store",
]

PG_SCHEMES = ("postgresql", "postgres")


def default_target() -> str:
    """The store to use when none is given: $KERASBENCH_RESULTS or the default file."""
    return os.environ.get("KERASBENCH_RESULTS") or str(default_path())


def is_url(target: str | Path) -> bool:
    return bool(URL.match(str(target)))


def open_store(target: str | Path | None = None, create: bool = True, **kw: Any) -> Any:
    """The store at ``target`` (a path or a URL; None: ``default_target()``), opened.

    StoreError for a scheme no store supports, or a store that must not be used.
    """
    target = default_target() if target is None or str(target) == "" else target
    text = str(target)
    if is_url(text):
        scheme = text.split("://", 1)[0].lower()
        if scheme not in PG_SCHEMES:
            raise StoreError(
                f"{text.split('@')[-1] if '@' in text else text}: unsupported store scheme "
                f"{scheme}:// (give a file path, or a postgresql://user@host/db URL)"
            )
        try:
            from kerasbench.store.postgres import PostgresStore
        except ImportError:
            raise StoreError(
                "a postgresql:// store needs the psycopg driver: pip install 'psycopg[binary]'"
            ) from None

        return PostgresStore(text, create=create, **kw)
    return Store(Path(text), create=create, **kw)
