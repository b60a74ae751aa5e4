"""The stdlib ``sqlite3`` registry reads answer as the full registry does: the same versions,
aliases and order, and the same errors (kind, message and hint) for what is not there."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from parity.core.errors import NotFoundError, ParityError
from parity.core.run import DataLink
from parity.registry.reads import RegistryReads, VersionReader
from parity.registry.versions import Actor, Registry
from parity.store.meta import open_metadata_store
from parity.store.meta.direct import open_direct_sqlite
from parity.tracking.direct_inputs import input_data_versions
from parity.tracking.store import RunStore
from parity.workspace import Workspace, open_workspace

ALICE = Actor("alice", admin=True)
MODEL_A = "a" * 64
MODEL_B = "b" * 64
RUN = "1" * 32


@dataclass
class Both:
    full: Registry
    direct: RegistryReads


@pytest.fixture
def both(tmp_path: Path) -> Iterator[Both]:
    """One SQLite database with models in every state a read can meet, read both ways."""
    path = tmp_path / "parity.db"
    meta = open_metadata_store(f"sqlite:///{path}")
    ticks = itertools.count(1_000)
    full = Registry(meta, clock=lambda: next(ticks))
    full.register("bc", MODEL_A, ALICE, run_id=RUN, description="first")
    full.register("bc", MODEL_B, ALICE)
    full.register("bc", MODEL_A, ALICE)
    full.set_alias("bc", 2, "production", ALICE)
    full.set_alias("bc", 2, "canary", ALICE)
    full.set_alias("bc", 1, "archive", ALICE)
    full.lock("bc", 1, ALICE)
    full.delete("bc", 3, ALICE)  # numbers are not reused: bc/3 is gone, bc stays at 2
    full.register("gone", MODEL_B, ALICE)
    full.delete("gone", 1, ALICE)  # a model with no versions left
    connection = open_direct_sqlite(path)
    assert connection is not None
    yield Both(full, RegistryReads(connection))
    connection.close()
    meta.close()


def _answer(read: Callable[[VersionReader], Any], registry: VersionReader) -> object:
    try:
        return read(registry)
    except ParityError as exc:
        return (type(exc).__name__, str(exc), exc.hint)


READS: list[tuple[str, Callable[[VersionReader], Any]]] = [
    ("resolve alias", lambda r: r.resolve("bc@production")),
    ("resolve another alias", lambda r: r.resolve("bc@archive")),
    ("resolve version", lambda r: r.resolve("bc/1")),
    ("resolve latest", lambda r: r.resolve("bc")),
    ("get", lambda r: r.get("bc", 2)),
    ("by_alias", lambda r: r.by_alias("bc", "canary")),
    ("latest", lambda r: r.latest("bc")),
    ("versions", lambda r: r.versions("bc")),
    ("missing model by alias", lambda r: r.resolve("nope@production")),
    ("missing alias", lambda r: r.resolve("bc@staging")),
    ("missing model by version", lambda r: r.resolve("nope/1")),
    ("deleted version", lambda r: r.resolve("bc/3")),
    ("version past the last", lambda r: r.get("bc", 9)),
    ("version zero", lambda r: r.get("bc", 0)),
    ("missing model, latest", lambda r: r.resolve("nope")),
    ("no versions left", lambda r: r.latest("gone")),
    ("versions of a missing model", lambda r: r.versions("nope")),
    ("not a version reference", lambda r: r.resolve("bc@")),
    ("run path is no version", lambda r: r.resolve("0190ab12:model")),
]


@pytest.mark.parametrize(("what", "read"), READS, ids=[what for what, _ in READS])
def test_direct_reads_answer_as_the_full_registry(
    both: Both, what: str, read: Callable[[VersionReader], Any]
) -> None:
    expected = _answer(read, both.full)
    assert _answer(read, both.direct) == expected, what


def test_the_answers_compared_are_the_registry_state(both: Both) -> None:
    """The comparison above is against real answers, not two equal failures."""
    production = both.direct.resolve("bc@production")
    assert (production.version, production.model_id, production.aliases) == (
        2,
        MODEL_B,
        ("canary", "production"),
    )
    first = both.direct.get("bc", 1)
    assert (first.run_id, first.locked, first.description, first.aliases) == (
        RUN,
        True,
        "first",
        ("archive",),
    )
    assert [v.version for v in both.direct.versions("bc")] == [1, 2]


def test_a_read_sees_an_alias_moved_after_it_opened(both: Both) -> None:
    both.full.set_alias("bc", 1, "production", ALICE, force=True)
    assert both.direct.resolve("bc@production").version == 1
    assert both.direct.get("bc", 1).aliases == ("archive", "production")


def test_run_inputs_read_directly_match_the_run_store(tmp_path: Path) -> None:
    path = tmp_path / "parity.db"
    meta = open_metadata_store(f"sqlite:///{path}")
    runs = RunStore(meta, lambda: 1_000, None)  # type: ignore[arg-type]
    try:
        run_id = runs.create(experiment="e", name=None, user="u", host=None, command=["x"])
        runs.add_data(run_id, "input", [DataLink("b/train.csv", "d2"), DataLink("a/x.csv", "d1")])
        runs.add_data(run_id, "output", [DataLink("out.csv", "d3")])
        connection = open_direct_sqlite(path)
        assert connection is not None
        try:
            from_store = tuple(d.data_version for d in runs.get(run_id).inputs)
            assert input_data_versions(connection, run_id) == from_store == ("d1", "d2")
            assert input_data_versions(connection, "9" * 32) == ()
        finally:
            connection.close()
    finally:
        meta.close()


def test_an_embedded_workspace_reads_directly_and_others_through_the_store(
    workspace_dir: Path, postgres_url: str
) -> None:
    embedded = open_workspace(workspace_dir, environ={})
    try:
        assert isinstance(embedded.registry_reads, RegistryReads)
        embedded.close()  # closes the connection; a use after it opens a new one
        with pytest.raises(NotFoundError, match="no model named 'bc'"):
            embedded.registry_reads.resolve("bc@production")
    finally:
        embedded.close()
    assert "direct_sqlite" not in embedded.__dict__
    on_postgres = open_workspace(workspace_dir, environ={"PARITY_METADATA_URL": postgres_url})
    try:
        assert on_postgres.direct_sqlite is None
        assert on_postgres.registry_reads is on_postgres.registry
    finally:
        on_postgres.close()


def test_a_database_at_another_schema_is_read_through_the_store(workspace_dir: Path) -> None:
    database = workspace_dir / ".parity" / "parity.db"
    raw = sqlite3.connect(database)
    with raw:
        # One branch a revision behind (or ahead): no longer exactly this Parity's heads.
        raw.execute("UPDATE alembic_version SET version_num = 'elsewhere' WHERE rowid = 1")
    raw.close()
    workspace: Workspace = open_workspace(workspace_dir, environ={})
    try:
        assert workspace.direct_sqlite is None  # the full store decides: migrate, or refuse
    finally:
        workspace.close()
