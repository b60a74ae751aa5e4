"""Code states in the metadata store: written with the run, read by listings instead of the
object store, copied once for runs that predate the table, and listings in team mode
(PostgreSQL + S3) that never make an S3 request nor load boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from parity.core.run import CodeState
from parity.store.meta import MetadataStore, open_metadata_store
from parity.store.meta.tracking_tables import code_states
from parity.store.objects import open_object_store
from parity.store.objects.store import ObjectStore, object_key
from parity.store.records import RecordStore
from parity.tracking import code_state, short_ids
from parity.tracking.code_state import capture_code_state
from parity.tracking.records import store_code_state
from parity.tracking.store import RunStore
from tests.conftest import _free_port, run_parity
from tests.tracking.conftest import Clock, git, make_repo, run_script
from tests.tracking.team import remote_store, serve

STATE = CodeState(
    repo_url="https://git.example.com/team/churn.git",
    commit="a" * 40,
    branch="main",
    dirty=True,
    diff_digest="d" * 64,
    untracked=("notes.txt",),
)


@pytest.fixture
def meta(database_url: str) -> Iterator[MetadataStore]:
    store = open_metadata_store(database_url)
    yield store
    store.close()


@pytest.fixture
def records(meta: MetadataStore, tmp_path: Path) -> RecordStore:
    return RecordStore(open_object_store(str(tmp_path / "objects")), meta)


def _rows(meta: MetadataStore) -> dict[str, dict[str, Any]]:
    with meta.read() as connection:
        found = connection.execute(sa.select(code_states)).mappings()
        return {row["code_id"]: dict(row) for row in found}


def _create(store: RunStore, code_id: str | None) -> str:
    return store.create(
        experiment="e", name=None, user="ada", host=None, command=[], code_id=code_id
    )


def test_the_row_is_written_with_the_run_and_read_without_the_object_store(
    meta: MetadataStore, records: RecordStore
) -> None:
    code_id = store_code_state(records, STATE, 1)
    store = RunStore(meta, Clock(), records)
    run_id = _create(store, code_id)
    row = _rows(meta)[code_id]
    assert (row["commit"], row["branch"], row["dirty"], row["diff_digest"]) == (
        "a" * 40,
        "main",
        True,
        "d" * 64,
    )
    assert CodeState.from_dict(json.loads(row["document"])) == STATE
    # The record gone from the object store: a listing reads the database alone.
    records.objects.delete(code_id)
    fresh = RunStore(meta, Clock(), records)
    assert fresh.get(run_id).code == {"id": code_id, **STATE.to_dict()}


def test_set_sources_writes_the_row_too(meta: MetadataStore, records: RecordStore) -> None:
    store = RunStore(meta, Clock(), records)
    run_id = _create(store, None)
    assert _rows(meta) == {}
    code_id = store_code_state(records, STATE, 1)
    store.set_sources(run_id, code_id, None)
    assert set(_rows(meta)) == {code_id}


def test_a_server_reads_a_client_s_record_once_and_writes_the_row(tmp_path: Path) -> None:
    other = CodeState(None, "b" * 40, "dev", False, None)
    with serve(tmp_path / "served") as served:
        workspace = served.context.workspace
        # What a client stores over HTTP before it creates its run: the record, not in the
        # server process's memory.
        code_id = workspace.records.put(other.to_record(), 1)
        reads = _count_reads(workspace.objects)
        client = remote_store(served)
        try:
            run_id, again = (
                client.create(
                    experiment="e", name=None, user="alice", host=None, command=[], code_id=code_id
                )
                for _ in range(2)
            )
            assert run_id != again
            assert reads == [object_key(code_id)]
            assert set(_rows(workspace.meta)) == {code_id}
            workspace.objects.delete(code_id)
            assert client.get(run_id).code == {"id": code_id, **other.to_dict()}
        finally:
            client.client.close()


def test_a_run_without_a_row_is_copied_once_from_the_object_store(
    meta: MetadataStore, records: RecordStore
) -> None:
    code_id = store_code_state(records, STATE, 1)
    run_id = _create(RunStore(meta, Clock(), records), code_id)
    with meta.write() as connection:  # as a run recorded before migration t004 is
        connection.execute(sa.delete(code_states))
    reads = _count_reads(records.objects)
    store = RunStore(meta, Clock(), records)
    assert store.get(run_id).code == {"id": code_id, **STATE.to_dict()}
    assert reads == [object_key(code_id)]
    assert set(_rows(meta)) == {code_id}
    assert RunStore(meta, Clock(), records).get(run_id).code == store.get(run_id).code
    assert reads == [object_key(code_id)]  # later reads, in any process, find the row


def _count_reads(objects: ObjectStore) -> list[str]:
    """The keys read from ``objects`` from now on."""
    reads: list[str] = []
    backend = objects.backend
    read = backend.read

    def counted(key: str) -> bytes:
        reads.append(key)
        return read(key)

    backend.read = counted  # type: ignore[method-assign]
    return reads


def test_the_migration_from_t003_keeps_runs_and_their_code(
    database_url: str, tmp_path: Path
) -> None:
    meta = open_metadata_store(database_url)
    records = RecordStore(open_object_store(str(tmp_path / "objects")), meta)
    code_id = store_code_state(records, STATE, 1)
    run_id = _create(RunStore(meta, Clock(), records), code_id)
    meta.close()
    engine = sa.create_engine(database_url)
    try:  # the database as Parity left it at t003: no table, stamped t003
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE code_states"))
            connection.execute(
                sa.text(
                    "UPDATE alembic_version SET version_num = 't003' WHERE version_num = 't004'"
                )
            )
    finally:
        engine.dispose()
    reopened = open_metadata_store(database_url)
    try:
        assert "t004" in reopened.schema_revisions()
        assert _rows(reopened) == {}
        store = RunStore(reopened, Clock(), RecordStore(records.objects, reopened))
        assert store.get(run_id).code == {"id": code_id, **STATE.to_dict()}
        assert set(_rows(reopened)) == {code_id}
    finally:
        reopened.close()


def test_short_ids_take_a_query_or_two_for_a_whole_listing(
    meta: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(meta, Clock())  # 1 ms apart: ids share long prefixes
    made = sorted(_create(store, None) for _ in range(450))
    statements: list[str] = []

    def seen(*event: Any) -> None:
        if "runs" in event[2]:
            statements.append(event[2])

    sa.event.listen(meta.engine, "before_cursor_execute", seen)
    newest = made[-50:]
    shown = store.short_ids(newest)
    assert len(statements) == 2  # the ids in the range, then the two just outside it
    assert {store.resolve(short) for short in shown.values()} == set(newest)
    # Scattered over many others (one in nine): looked up, up to 200 ids a query.
    scattered = made[::9]
    statements.clear()
    looked_up = store.short_ids(scattered)
    assert len(statements) == 1 + 1  # the range read that gave up, one lookup of 50 ids
    assert {store.resolve(short) for short in looked_up.values()} == set(scattered)
    monkeypatch.setattr(short_ids, "RANGE_FACTOR", 100)  # read the range whatever it holds
    assert store.short_ids(scattered) == looked_up
    ranged = store.short_ids(made)
    monkeypatch.setattr(short_ids, "RANGE_FACTOR", 0)  # never: look every id up
    statements.clear()
    assert store.short_ids(made) == ranged
    assert len(statements) == 1 + 3  # 450 ids: three lookups of at most 200
    assert {store.resolve(short) for short in ranged.values()} == set(made)


def test_a_dirty_diff_is_stored_once_per_process(repo: Path, tmp_path: Path) -> None:
    objects = open_object_store(str(tmp_path / "objects"))
    (repo / "train.py").write_text(f"print('changed in {tmp_path.name}')\n")
    asked: list[str] = []
    backend = objects.backend
    exists = backend.exists

    def counted(key: str) -> bool:
        asked.append(key)
        return exists(key)

    backend.exists = counted  # type: ignore[method-assign]
    first = capture_code_state(repo, objects)
    second = capture_code_state(repo, objects)
    assert first is not None
    assert second is not None
    assert first.diff_digest is not None
    assert second.diff_digest == first.diff_digest
    assert asked == [object_key(first.diff_digest)]
    assert (objects.url, first.diff_digest) in code_state._stored_diffs


# What a listing in another process loaded: the command's output, then the heavy modules.
LISTING = """
import sys
from parity.cli.main import main
code = main(sys.argv[1:])
print("loaded:", sorted(m for m in ("boto3", "botocore") if m in sys.modules), "exit:", code)
"""


def test_team_listings_read_the_database_alone(
    tmp_path: Path, postgres_url: str, s3_bucket: str, s3_endpoint: str
) -> None:
    repo = make_repo(tmp_path / "team")
    team = {
        "PARITY_METADATA_URL": postgres_url,
        "PARITY_OBJECTS_URL": s3_bucket,
        "PARITY_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    (repo / "train.py").write_text("print('changed')\n")  # dirty: the runs have a diff
    started = run_script(
        "import parity\n"
        "for i in range(3):\n"
        "    with parity.start_run(experiment='team') as run:\n"
        "        run.log_metric('loss', i)\n"
        "print(run.id)\n",
        repo,
        env=team,
    )
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()
    commit = git(repo, "rev-parse", "HEAD").strip()
    # S3 is not there any more: a listing that asked it would fail.
    gone = {**team, "PARITY_S3_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}"}
    for argv, expected in (
        (["runs", "list"], "team"),
        (["status"], "Runs: 3 finished"),
        (["runs", "show", run_id], f"code         commit {commit}  branch main"),
    ):
        done = run_script(LISTING, repo, env=gone, args=argv)
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout
        assert done.stdout.splitlines()[-1] == "loaded: [] exit: 0", (argv, done.stderr)
    shown = json.loads(run_parity("runs", "show", run_id, "--json", cwd=repo, env=gone).stdout)
    assert (shown["code"]["commit"], shown["code"]["dirty"]) == (commit, True)
    assert shown["code"]["diff_digest"] is not None
