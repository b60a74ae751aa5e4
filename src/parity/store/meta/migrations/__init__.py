"""Alembic migrations of the metadata store.

``HEADS`` lists the head revisions this Parity expects; a test checks it against the scripts.
Each capability may start its own branch from ``0001``; ``upgrade heads`` applies them all.
"""

HEADS: tuple[str, ...] = ("s002", "t004", "d001", "a002", "p001", "e001")
