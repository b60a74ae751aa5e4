"""One contract for the metadata store, over a SQLite file and the real PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from parity.core.errors import ConflictError, StorageError
from parity.store.meta import MetadataStore, open_metadata_store
from parity.store.meta.migrations import HEADS


@pytest.fixture
def meta(database_url: str) -> MetadataStore:
    store = open_metadata_store(database_url)
    yield store  # type: ignore[misc]
    store.close()


def test_opening_applies_every_migration(meta: MetadataStore) -> None:
    assert meta.schema_revisions() == sorted(HEADS)


def test_reopening_is_a_no_op(database_url: str) -> None:
    first = open_metadata_store(database_url)
    first.index_records([("a" * 64, "env", 1, None)])
    first.close()
    second = open_metadata_store(database_url)
    assert second.record_ids() == ["a" * 64]
    second.close()


def test_record_index(meta: MetadataStore) -> None:
    meta.index_records(
        [("ab" + "0" * 62, "env", 10, "laptop"), ("ab" + "1" * 62, "data", 11, None)]
    )
    meta.index_records([("ab" + "0" * 62, "env", 99, "again")])  # duplicates are ignored
    assert meta.record_ids(prefix="ab") == ["ab" + "0" * 62, "ab" + "1" * 62]
    assert meta.record_ids(kind="env") == ["ab" + "0" * 62]
    assert meta.record_kind("ab" + "1" * 62) == "data"
    assert meta.record_kind("cd" * 32) is None
    assert meta.count_records() == {"env": 1, "data": 1}


def test_prefix_is_not_a_pattern(meta: MetadataStore) -> None:
    meta.index_records([("ab" + "0" * 62, "env", 10, None)])
    assert meta.record_ids(prefix="a%") == []
    assert meta.record_ids(prefix="a_") == []


def test_write_rolls_back_on_error(meta: MetadataStore) -> None:
    records = sa.table("records", sa.column("id"), sa.column("kind"), sa.column("created_ms"))
    with pytest.raises(RuntimeError), meta.write() as connection:
        connection.execute(sa.insert(records).values(id="f" * 64, kind="env", created_ms=1))
        raise RuntimeError("boom")
    assert meta.record_ids() == []


def test_duplicate_key_is_a_conflict(meta: MetadataStore) -> None:
    records = sa.table("records", sa.column("id"), sa.column("kind"), sa.column("created_ms"))
    meta.index_records([("e" * 64, "env", 1, None)])
    with pytest.raises(ConflictError), meta.write() as connection:
        connection.execute(sa.insert(records).values(id="e" * 64, kind="env", created_ms=1))


def test_database_from_a_newer_parity_is_refused(database_url: str) -> None:
    store = open_metadata_store(database_url)
    with store.write() as connection:
        # One branch head moved past what this Parity knows; the others stay as they are.
        connection.execute(
            sa.text("UPDATE alembic_version SET version_num = '9999' WHERE version_num = 's001'")
        )
    store.close()
    with pytest.raises(ConflictError, match="written by a newer Parity") as info:
        open_metadata_store(database_url)
    assert info.value.hint == "upgrade Parity: pip install -U parity-ml"


def _open_at_once(url: str, openers: int) -> list[BaseException]:
    """Open (and close) the store at ``url`` from ``openers`` threads at once; their errors."""
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            open_metadata_store(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_first_opens_migrate_once(database_url: str) -> None:
    assert _open_at_once(database_url, 4) == []
    store = open_metadata_store(database_url)
    assert store.schema_revisions() == sorted(HEADS)
    store.close()


def test_many_connections_opening_a_new_sqlite_file_at_once_all_succeed(tmp_path: Path) -> None:
    # Switching a new file to WAL needs it to itself, and SQLite answers "locked" without its
    # busy wait when another connection opens it then: 8 openers on 50 new files made the bug
    # show (about 2 failing files in 100 before the switch was retried).
    for attempt in range(50):
        errors = _open_at_once(f"sqlite:///{tmp_path / f'parity-{attempt}.db'}", 8)
        assert errors == [], f"file {attempt}: {errors[0]}"


def test_concurrent_writers_lose_nothing(database_url: str) -> None:
    store = open_metadata_store(database_url)

    def write_many(worker: int) -> None:
        for i in range(25):
            store.index_records([(f"{worker:02x}{i:062x}", "env", i, None)])

    threads = [threading.Thread(target=write_many, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.record_ids()) == 100
    store.close()


def test_unreachable_database_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_metadata_store("sqlite:////nonexistent-folder/parity.db")


def test_heads_match_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from parity.store.meta.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert set(ScriptDirectory.from_config(config).get_heads()) == set(HEADS)
