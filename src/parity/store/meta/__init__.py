"""The metadata store: SQLAlchemy 2 over SQLite (WAL) or PostgreSQL, migrated by Alembic."""

from parity.store.meta.store import MetadataStore, insert_ignoring_duplicates, open_metadata_store

__all__ = ["MetadataStore", "insert_ignoring_duplicates", "open_metadata_store"]
