"""Every column that can hold an id is declared as a reference or as plain, on every backend.

These fail when someone adds a table or a column (in the table modules or only in a migration)
without saying whether it names something by id, which is what gc's liveness query reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from parity.core.references import Target
from parity.store.meta import MetadataStore, open_metadata_store
from parity.store.meta.migrate import VERSION_TABLE
from parity.store.meta.references import PLAIN_COLUMNS, REFERENCE_COLUMNS
from parity.store.meta.schema import metadata
from tests.store._rows import row_naming

# Every id in Parity is text (hex digests, run ids); a number or a flag cannot hold one.
NO_ID_TYPES = (sa.Integer, sa.Numeric, sa.Float, sa.Boolean)


def _name(column: sa.Column[Any]) -> str:
    return f"{column.table.name}.{column.name}"


def _unclassified(tables: Iterator[sa.Table]) -> list[str]:
    declared = {_name(c.column) for c in REFERENCE_COLUMNS} | {_name(c) for c in PLAIN_COLUMNS}
    return sorted(
        _name(column)
        for table in tables
        for column in table.columns
        if not isinstance(column.type, NO_ID_TYPES) and _name(column) not in declared
    )


def test_every_text_column_of_the_schema_is_declared_once() -> None:
    assert _unclassified(iter(metadata.tables.values())) == []
    references = [_name(c.column) for c in REFERENCE_COLUMNS]
    plain = [_name(c) for c in PLAIN_COLUMNS]
    assert len(set(references)) == len(references)
    assert len(set(plain)) == len(plain)
    assert set(references).isdisjoint(plain)
    for column in [c.column for c in REFERENCE_COLUMNS] + list(PLAIN_COLUMNS):
        assert metadata.tables[column.table.name].c[column.name] is column
        assert not isinstance(column.type, NO_ID_TYPES), f"{_name(column)} cannot hold an id"


@pytest.fixture
def meta(database_url: str) -> Iterator[MetadataStore]:
    store = open_metadata_store(database_url)
    yield store
    store.close()


def test_every_text_column_the_migrations_create_is_declared(meta: MetadataStore) -> None:
    reflected = sa.MetaData()
    with meta.read() as connection:
        reflected.reflect(connection)
    tables = [t for name, t in reflected.tables.items() if name != VERSION_TABLE]
    assert {t.name for t in tables} == set(metadata.tables)
    assert _unclassified(iter(tables)) == []


DATA_VERSION_COLUMNS = [c.column for c in REFERENCE_COLUMNS if c.target is Target.DATA_VERSION]


def test_data_versions_are_declared_where_parity_writes_them() -> None:
    assert sorted(_name(c) for c in DATA_VERSION_COLUMNS) == [
        "data_profiles.data_version",
        "prediction_log.data_version",
        "run_data.data_version",
    ]


def test_one_query_lists_the_data_versions_rows_name(meta: MetadataStore) -> None:
    assert meta.referenced_data_versions() == {}
    expected = {}
    with meta.write() as connection:
        for index, column in enumerate(DATA_VERSION_COLUMNS):
            version = f"{index:x}" * 64
            connection.execute(sa.insert(column.table).values(**row_naming(column, version)))
            expected[version] = _name(column)
        # A row that names no data version names nothing.
        connection.execute(
            sa.insert(metadata.tables["prediction_log"]).values(
                time_ms=1, model="m", version=1, inputs="[]", prediction="0"
            )
        )
    assert meta.referenced_data_versions() == expected
