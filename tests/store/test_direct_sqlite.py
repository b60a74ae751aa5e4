"""The stdlib sqlite3 door opens only a database at exactly this Parity's schema."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from parity.store.meta import open_metadata_store
from parity.store.meta.direct import open_direct_sqlite
from parity.store.meta.engine import sqlite_url


@pytest.fixture
def current(tmp_path: Path) -> Path:
    path = tmp_path / "parity.db"
    open_metadata_store(sqlite_url(path)).close()
    return path


def test_a_current_database_opens_read_only(current: Path) -> None:
    connection = open_direct_sqlite(current)
    assert connection is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("DELETE FROM alembic_version")
    connection.close()


def test_a_writer_connection_writes(current: Path) -> None:
    connection = open_direct_sqlite(current, write=True)
    assert connection is not None
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("UPDATE alembic_version SET version_num = version_num")
    connection.execute("COMMIT")
    assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
    connection.close()


def test_missing_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    assert open_direct_sqlite(path) is None
    assert open_direct_sqlite(path, write=True) is None
    assert not path.exists()


@pytest.mark.parametrize("stamp", ["s001", "zz99"])
def test_another_schema_is_left_to_the_full_store(current: Path, stamp: str) -> None:
    with contextlib.closing(sqlite3.connect(current)) as raw, raw:
        raw.execute(
            "UPDATE alembic_version SET version_num = ? WHERE version_num = 's002'", [stamp]
        )
    assert open_direct_sqlite(current) is None


def test_not_a_parity_database(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as raw, raw:
        raw.execute("CREATE TABLE t (x)")
    assert open_direct_sqlite(other) is None
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    assert open_direct_sqlite(garbage) is None


def test_opening_imports_no_sqlalchemy(current: Path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from parity.store.meta.direct import open_direct_sqlite\n"
        f"assert open_direct_sqlite(Path({str(current)!r})) is not None\n"
        "print('sqlalchemy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
