"""gc keeps what pointers (in the work tree and every git ref), records and rows reference.

Records and rows count by their declared references only (``parity.data.record_references``,
``parity.store.meta.references``); what cannot be read stops gc before it deletes anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from parity.api.data import add, gc
from parity.core.errors import UsageError
from parity.core.profile import PROFILE_FORMAT, PROFILE_KIND
from parity.core.records import StoredRecord
from parity.core.references import Target
from parity.core.run import DataLink
from parity.data.pointer import read_pointer
from parity.data.record_references import RECORD_REFERENCES
from parity.data.versions import load_version
from parity.store.meta.references import REFERENCE_COLUMNS
from parity.store.meta.serving_tables import data_profiles
from parity.store.meta.tracking_tables import run_data
from parity.workspace import Workspace, now_ms, open_workspace
from tests.conftest import run_parity
from tests.data._records import digest, example_record
from tests.data._trees import git
from tests.store._rows import row_naming


def _add(root: Path, text: str) -> str:
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "f.txt").write_text(text)
    result = run_parity("data", "add", "data", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)[0]["data_version"])


@pytest.mark.slow
def test_gc_deletes_only_what_nothing_reaches(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    assert run_parity("init", cwd=root).returncode == 0

    committed = _add(root, "in git history\n")
    git(root, "add", "data.parity", ".gitignore")
    git(root, "commit", "-q", "-m", "v1")
    validated = _add(root, "a validation record names this\n")
    profiled = _add(root, "a run read this (a row in the metadata store says so)\n")
    orphan = _add(root, "nobody needs this\n")
    current = _add(root, "what the work tree points at\n")

    workspace = open_workspace(root, environ={})
    try:
        validation_id = workspace.records.put(example_record("validation", validated), now_ms())
        artifact = workspace.objects.put_bytes(b"model weights, not data")
        orphan_packs = load_version(workspace.objects, orphan).packs
        with workspace.meta.write() as connection:
            connection.execute(
                data_profiles.insert().values(
                    data_version=profiled, profile_id="c" * 64, created_ms=now_ms()
                )
            )
    finally:
        workspace.close()

    dry = run_parity("data", "gc", "--json", cwd=root)
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["delete_versions"] == [orphan]
    assert plan["delete_packs"] == sorted(orphan_packs)
    assert plan["deleted"] is False

    done = run_parity("data", "gc", "--yes", "--json", cwd=root)
    assert json.loads(done.stdout)["deleted"] is True
    workspace = open_workspace(root, environ={})
    try:
        store = workspace.objects
        for kept in (committed, validated, profiled, current, validation_id, artifact):
            assert store.has(kept)
        assert not store.has(orphan)
        assert not any(store.has(p) for p in orphan_packs)
        assert orphan not in workspace.meta.record_ids("data")
        assert read_pointer(root / "data.parity").data_version == current
    finally:
        workspace.close()
    assert run_parity("data", "fsck", cwd=root).returncode == 0
    git(root, "stash", "-q")  # the pointer of git history comes back; its data must too
    back = run_parity("data", "checkout", "data", "--force", cwd=root)
    assert back.returncode == 0, back.stderr
    assert (root / "data" / "f.txt").read_text() == "in git history\n"
    again = run_parity("data", "gc", "--json", cwd=root)
    assert json.loads(again.stdout)["delete_versions"] == []


@pytest.fixture
def workspace(workspace_dir: Path, database_url: str) -> Iterator[Workspace]:
    ws = open_workspace(workspace_dir, environ={"PARITY_METADATA_URL": database_url})
    yield ws
    ws.close()


def _unpointed(workspace: Workspace, name: str) -> str:
    """A stored data version no pointer names (its pointer file is removed)."""
    path = workspace.root / name
    path.write_text(f"{name}\n")
    result = add(path, workspace=workspace)
    result.pointer.unlink()
    return result.data_version


def _names_a_data_version(kind: str) -> bool:
    references = RECORD_REFERENCES[kind].of(example_record(kind, digest("some version")))
    return any(r.target is Target.DATA_VERSION for r in references)


RECORD_KINDS = [kind for kind in sorted(RECORD_REFERENCES) if _names_a_data_version(kind)]
DATA_VERSION_COLUMNS = [c.column for c in REFERENCE_COLUMNS if c.target is Target.DATA_VERSION]


def test_the_kinds_and_columns_that_name_data_versions() -> None:
    assert RECORD_KINDS == ["data_commit", "deploy_export", "profile", "validation"]
    assert len(DATA_VERSION_COLUMNS) == 3


@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_a_record_keeps_the_version_it_references_until_it_is_gone(
    workspace: Workspace, kind: str
) -> None:
    kept = _unpointed(workspace, "kept.csv")
    orphan = _unpointed(workspace, "orphan.csv")
    record_id = workspace.records.put(example_record(kind, kept), now_ms())

    plan = gc(delete=True, workspace=workspace)
    assert plan.delete_versions == [orphan]
    assert kept in plan.live_versions
    assert workspace.objects.has(kept)
    assert not workspace.objects.has(orphan)

    workspace.objects.delete(record_id)  # a record not in this store keeps nothing here
    assert gc(delete=True, workspace=workspace).delete_versions == [kept]
    assert not workspace.objects.has(kept)


def _column_name(column: sa.Column[Any]) -> str:
    return f"{column.table.name}.{column.name}"


@pytest.mark.parametrize("column", DATA_VERSION_COLUMNS, ids=_column_name)
def test_a_row_keeps_the_version_it_names_until_it_is_gone(
    workspace: Workspace, column: sa.Column[Any]
) -> None:
    kept = _unpointed(workspace, "kept.csv")
    orphan = _unpointed(workspace, "orphan.csv")
    with workspace.meta.write() as connection:
        connection.execute(sa.insert(column.table).values(**row_naming(column, kept)))

    plan = gc(delete=True, workspace=workspace)
    assert plan.delete_versions == [orphan]
    assert workspace.objects.has(kept)

    with workspace.meta.write() as connection:
        connection.execute(sa.delete(column.table).where(column == kept))
    assert gc(delete=True, workspace=workspace).delete_versions == [kept]


def test_run_inputs_and_outputs_keep_their_versions(workspace: Workspace) -> None:
    read = _unpointed(workspace, "train.csv")
    written = _unpointed(workspace, "predictions.csv")
    orphan = _unpointed(workspace, "orphan.csv")
    runs = workspace.runs
    run_id = runs.create(experiment="e", name=None, user="u", host=None, command=["train"])
    runs.add_data(run_id, "input", [DataLink("train.csv", read)])
    runs.add_data(run_id, "output", [DataLink("predictions.csv", written)])
    runs.delete(run_id)  # soft: the run can be restored, so its data stays

    plan = gc(delete=True, workspace=workspace)
    assert plan.delete_versions == [orphan]
    assert {read, written} <= plan.live_versions

    with workspace.meta.write() as connection:
        connection.execute(sa.delete(run_data).where(run_data.c.run_id == run_id))
    assert gc(delete=True, workspace=workspace).delete_versions == sorted([read, written])


@pytest.mark.parametrize(
    "record",
    [
        StoredRecord("dataset", 1, {}),  # a kind this Parity has no declaration for
        StoredRecord(PROFILE_KIND, PROFILE_FORMAT + 1, {}),  # a format newer than declared
        StoredRecord(PROFILE_KIND, PROFILE_FORMAT, {"data_version": 7}),  # damaged
    ],
    ids=["unknown kind", "newer format", "damaged"],
)
def test_a_record_gc_cannot_read_stops_it_before_anything_is_deleted(
    workspace: Workspace, record: StoredRecord
) -> None:
    orphan = _unpointed(workspace, "orphan.csv")
    workspace.records.put(record, now_ms())
    with pytest.raises(UsageError):
        gc(delete=True, workspace=workspace)
    assert workspace.objects.has(orphan)


def test_the_command_refuses_with_exit_2_and_the_upgrade_hint(workspace_dir: Path) -> None:
    workspace = open_workspace(workspace_dir, environ={})
    try:
        orphan = _unpointed(workspace, "orphan.csv")
        workspace.records.put(StoredRecord("dataset", 1, {}), now_ms())
    finally:
        workspace.close()
    result = run_parity("data", "gc", "--yes", cwd=workspace_dir)
    assert result.returncode == 2
    assert "which ids a 'dataset' record references" in result.stderr
    assert "pip install -U parity-ml" in result.stderr
    workspace = open_workspace(workspace_dir, environ={})
    try:
        assert workspace.objects.has(orphan)
    finally:
        workspace.close()
