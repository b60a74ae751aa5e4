"""``environments.record()`` of this interpreter in a workspace keeps unchanged distributions'
facts in the workspace's cache and writes the index row without SQLAlchemy, and still gives
exactly the environment (and record id) a fresh capture gives."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from parity.api import environments
from parity.core.environment import ENV_KIND
from parity.env import probe
from parity.env.capture import capture
from parity.env.kept_distributions import kept_file
from parity.store.records_direct import index_record_direct
from parity.workspace import CACHE_DIR, open_workspace
from tests.env.test_kept_distributions import HOUR_AGO_NS, _dist


def _record_id(root: Path) -> str:
    workspace = open_workspace(root)
    try:
        captured = environments.record(workspace=workspace)
        assert captured.stored
        # Indexed: the record resolves by its id prefix, through the full store.
        assert workspace.records.resolve(captured.environment.id[:12], ENV_KIND) == (
            captured.environment.id
        )
        return captured.environment.id
    finally:
        workspace.close()


def test_a_kept_capture_stores_the_fresh_capture(workspace_dir: Path) -> None:
    first = _record_id(workspace_dir)
    assert kept_file(workspace_dir / ".parity" / CACHE_DIR).is_file()
    again = _record_id(workspace_dir)
    assert first == again == capture().id


def test_a_changed_package_is_noticed(
    workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(probe, "search_path", lambda: [str(site)])
    _dist(site, "alpha", "1.0")
    beta = _dist(site, "beta", "2.0")
    before = _record_id(workspace_dir)
    assert _record_id(workspace_dir) == before  # kept, unchanged
    (beta / "METADATA").write_text("Metadata-Version: 2.1\nName: beta\nVersion: 2.10\n")
    os.utime(beta / "METADATA", ns=(HOUR_AGO_NS + 1, HOUR_AGO_NS + 1))
    after = _record_id(workspace_dir)
    assert after != before
    assert after == capture().id
    assert {d.name: d.version for d in capture().distributions}["beta"] == "2.10"


def test_storing_a_capture_does_not_import_sqlalchemy(workspace_dir: Path) -> None:
    script = (
        "import sys\n"
        "from parity.api import environments\n"
        "captured = environments.record()\n"
        "assert captured.stored\n"
        "print(captured.environment.id)\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=workspace_dir,
        capture_output=True,
        text=True,
        check=True,
    )
    record_id, imported = done.stdout.split()
    assert imported == "False"
    database = sqlite3.connect(workspace_dir / ".parity" / "parity.db")
    try:
        rows = database.execute("SELECT kind FROM records WHERE id = ?", (record_id,)).fetchall()
    finally:
        database.close()
    assert rows == [(ENV_KIND,)]


def test_a_database_not_at_this_schema_is_not_written_directly(tmp_path: Path) -> None:
    entry = ("a" * 64, ENV_KIND, 1, None)
    assert not index_record_direct(tmp_path / "missing.db", entry)
    other = tmp_path / "other.db"
    database = sqlite3.connect(other)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("CREATE TABLE alembic_version (version_num TEXT)")
    database.execute("INSERT INTO alembic_version VALUES ('not-a-head')")
    database.execute("CREATE TABLE records (id TEXT, kind TEXT, created_ms INT, label TEXT)")
    database.commit()
    assert not index_record_direct(other, entry)
    assert database.execute("SELECT COUNT(*) FROM records").fetchone() == (0,)
    database.close()
