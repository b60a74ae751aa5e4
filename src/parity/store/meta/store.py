"""The metadata store: mutable state and indexes over SQLite or PostgreSQL."""

from __future__ import annotations

import contextlib
import importlib
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, String, Table, func, literal, select, text, union
from sqlalchemy.exc import SQLAlchemyError

from parity.core.errors import DatabaseBusy, ParityError
from parity.core.references import Target
from parity.store.meta.engine import WRITE_OPTION, create_metadata_engine
from parity.store.meta.errors import translate
from parity.store.meta.locks import advisory_lock, check_name, file_lock
from parity.store.meta.migrate import check_revisions, ensure_schema, stamped_revisions
from parity.store.meta.references import REFERENCE_COLUMNS
from parity.store.meta.schema import records

T = TypeVar("T")
# A transaction that meets contention is run again, at most this many times in all, after a
# growing, jittered pause (so writers that collided do not collide again in step): about 5 s.
TRANSACTION_ATTEMPTS = 8
_FIRST_PAUSE_S = 0.02
_LONGEST_PAUSE_S = 2.0


def insert_ignoring_duplicates(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows``, skipping any whose primary key is already there."""
    if not rows:
        return
    connection.execute(_insert_ignoring(connection.dialect.name, table), list(rows))


# Built once per dialect and table: a statement object reused keeps its cache key, where one
# built per call costs more than SQLite's own insert (a run's start writes three).
_ignoring: dict[tuple[str, str], Any] = {}


def _insert_ignoring(dialect: str, table: Table) -> Any:
    key = (dialect, table.name)
    statement = _ignoring.get(key)
    if statement is None or statement.table is not table:
        name = "postgresql" if dialect == "postgresql" else "sqlite"
        module = importlib.import_module(f"sqlalchemy.dialects.{name}")
        statement = _ignoring[key] = module.insert(table).on_conflict_do_nothing()
    return statement


def dialect_of(connection: Connection) -> Any:
    """SQLAlchemy's dialect module of the connection's database, for its ``insert`` (upserts).

    Imported by name: the PostgreSQL dialect (and asyncio, which it imports) costs an embedded
    workspace's every command ~20-40 ms of start-up that SQLite never needs.
    """
    name = "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
    return importlib.import_module(f"sqlalchemy.dialects.{name}")


class MetadataStore:
    """Owns the engine; hands out read and write transactions that translate database errors."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        with self._translated(), self.engine.connect() as connection, connection.begin():
            yield connection

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on any exception."""
        with (
            self._translated(),
            self.engine.connect().execution_options(**{WRITE_OPTION: True}) as connection,
            connection.begin(),
        ):
            yield connection

    def transact(
        self, action: Callable[[Connection], T], attempts: int = TRANSACTION_ATTEMPTS
    ) -> T:
        """``action`` in one write transaction, run again from the start while the database
        reports contention. ``action`` must be safe to repeat: a run that met contention was
        rolled back, and any write that could be retried after an unknown commit needs a key."""
        for attempt in range(1, attempts + 1):
            try:
                with self.write() as connection:
                    return action(connection)
            except DatabaseBusy as exc:
                if attempt == attempts:
                    raise DatabaseBusy(
                        f"the database at {self.url} stayed busy with other writers "
                        f"({attempts} attempts)",
                        hint="try again in a moment",
                    ) from exc
                pause = min(_LONGEST_PAUSE_S, _FIRST_PAUSE_S * 2**attempt)
                time.sleep(pause * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the lock ``name`` for the block, shutting out every other holder of that name
        using this database (PostgreSQL: any machine; SQLite: any process on this one). Another
        holder waits for it, without a time limit; a killed holder releases it.
        See ``parity.store.meta.locks``."""
        check_name(name)
        if self.dialect == "postgresql":
            with self._translated(), advisory_lock(self.engine, name):
                yield
            return
        with file_lock(self.engine.url.database, name):
            yield

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except ParityError:
            raise
        except SQLAlchemyError as exc:
            raise translate(exc, self.url) from exc

    # the record index ---------------------------------------------------------------------------
    def index_records(self, entries: Iterable[tuple[str, str, int, str | None]]) -> None:
        """Remember stored records as (id, kind, created_ms, label)."""
        rows = [
            {"id": rid, "kind": kind, "created_ms": created, "label": label}
            for rid, kind, created, label in entries
        ]
        with self.write() as connection:
            insert_ignoring_duplicates(connection, records, rows)

    def record_ids(
        self,
        kind: str | None = None,
        prefix: str = "",
        *,
        after: str = "",
        limit: int | None = None,
    ) -> list[str]:
        """The indexed ids (of ``kind``, starting with ``prefix``), sorted; with ``after`` and
        ``limit``, one page of them: at most ``limit`` ids greater than ``after``."""
        query = select(records.c.id)
        if kind is not None:
            query = query.where(records.c.kind == kind)
        if prefix:
            query = query.where(records.c.id.startswith(prefix, autoescape=True))
        if after:
            query = query.where(records.c.id > after)
        query = query.order_by(records.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.read() as connection:
            return [row[0] for row in connection.execute(query)]

    def labelled_records(self, kind: str, label: str) -> list[str]:
        """The ids of ``kind`` indexed with ``label``, oldest first."""
        query = (
            select(records.c.id)
            .where(records.c.kind == kind, records.c.label == label)
            .order_by(records.c.created_ms, records.c.id)
        )
        with self.read() as connection:
            return [row[0] for row in connection.execute(query)]

    def record_kind(self, record_id: str) -> str | None:
        with self.read() as connection:
            return connection.execute(
                select(records.c.kind).where(records.c.id == record_id)
            ).scalar_one_or_none()

    def count_records(self) -> dict[str, int]:
        query = select(records.c.kind, func.count()).group_by(records.c.kind)
        with self.read() as connection:
            return {str(kind): int(count) for kind, count in connection.execute(query)}

    def referenced_data_versions(self) -> dict[str, str]:
        """Every data version a row names → one ``table.column`` naming it, in one query over
        the columns declared to hold data versions (``parity.store.meta.references``)."""
        columns = [c.column for c in REFERENCE_COLUMNS if c.target is Target.DATA_VERSION]
        if not columns:
            return {}
        query = union(
            *(
                select(
                    column.label("id"),
                    literal(f"{column.table.name}.{column.name}", String).label("source"),
                ).where(column.is_not(None))
                for column in columns
            )
        )
        with self.read() as connection:
            found: dict[str, str] = {}
            for version, source in connection.execute(query):
                found.setdefault(str(version), str(source))
            return found

    def schema_revisions(self) -> list[str]:
        with self.read() as connection:
            return sorted(stamped_revisions(connection))

    def check_schema(self) -> None:
        """Refuse (ConflictError) a schema other than this Parity's, without changing it."""
        check_revisions(set(self.schema_revisions()), self.url)

    def refresh_statistics(self, tables: Sequence[str]) -> None:
        """Have PostgreSQL's planner count ``tables`` now, after a bulk load.

        Without statistics (autovacuum off, or not yet run after a load) PostgreSQL estimates a
        table of one row and turns a run search's ``IN`` filter into a nested loop: 1.2-1.9 s
        instead of 40 ms over 10,000 runs, measured. SQLite plans without statistics well.
        """
        if self.dialect != "postgresql":
            return
        with self.write() as connection:
            for table in tables:
                connection.execute(text(f'ANALYZE "{table}"'))

    def close(self) -> None:
        self.engine.dispose()


def open_metadata_store(url: str, migrate: bool = True) -> MetadataStore:
    """Open the metadata store at ``url``, migrating it first when it needs it and ``migrate``."""
    engine = create_metadata_engine(url)
    store = MetadataStore(engine)
    if not migrate:
        return store
    try:
        with store._translated():
            ensure_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return store
