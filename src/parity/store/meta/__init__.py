"""The metadata store: SQLAlchemy 2 over SQLite (WAL) or PostgreSQL, migrated by Alembic.

The names below load on first use, so a module of this package that needs no SQLAlchemy
(``migrations`` with its ``HEADS``, a stdlib ``sqlite3`` read path) can be imported without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parity.store.meta.store import (
        MetadataStore,
        insert_ignoring_duplicates,
        open_metadata_store,
    )

__all__ = ["MetadataStore", "insert_ignoring_duplicates", "open_metadata_store"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        # lazy: SQLAlchemy's import is ~110 ms; stdlib-only readers of this package skip it
        return getattr(importlib.import_module("parity.store.meta.store"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
