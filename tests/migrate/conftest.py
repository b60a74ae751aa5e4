"""Real MLflow stores for the import tests: made by MLflow itself, in a tool venv.

The venv (MLflow, scikit-learn, psycopg2) is built once under .bench/; the SQLite store is
built once per version of the generator script (it only reads it, so tests share it), the
PostgreSQL store once per session in a fresh database.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from benchmarks._support import BENCH

from tests.conftest import IN_CI, POSTGRES_URL
from tests.migrate.mlflow_tool import MLFLOW as REQUIREMENTS
from tests.migrate.mlflow_tool import mlflow_python as shared_mlflow_python

GENERATOR = Path(__file__).with_name("mlflow_store.py")


@dataclass(frozen=True)
class MlflowStore:
    """A tracking URI MLflow wrote, and what MLflow's own client reads back from it."""

    uri: str
    dump: dict[str, Any]

    def run(self, run_id: str) -> dict[str, Any]:
        return next(r for r in self.dump["runs"] if r["id"] == run_id)


def mlflow_python() -> Path:
    return shared_mlflow_python()


def _tool(python: Path, *args: str, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "MLFLOW_"))}
    env["MLFLOW_TEST_TMP"] = str(cwd)
    done = subprocess.run(
        [str(python), str(GENERATOR), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]


def build_store(python: Path, uri: str, folder: Path, tool_uri: str | None = None) -> MlflowStore:
    """Generate the store at ``uri`` (MLflow is given ``tool_uri`` when it needs a driver
    named) and dump it with MLflow's client."""
    folder.mkdir(parents=True, exist_ok=True)
    _tool(python, "generate", tool_uri or uri, str(folder), cwd=folder)
    _tool(python, "dump", tool_uri or uri, str(folder / "dump.json"), cwd=folder)
    return MlflowStore(uri, json.loads((folder / "dump.json").read_text()))


@pytest.fixture(scope="session")
def sqlite_store() -> MlflowStore:
    """The test store in SQLite, kept under .bench/ while the generator script is unchanged."""
    python = mlflow_python()
    version = hashlib.sha256(GENERATOR.read_bytes() + "\n".join(REQUIREMENTS).encode())
    folder = BENCH / f"mlflow-store-{version.hexdigest()[:12]}"
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    if (folder / "dump.json").is_file():
        return MlflowStore(uri, json.loads((folder / "dump.json").read_text()))
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    return build_store(python, uri, folder)


@pytest.fixture(scope="session")
def postgres_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowStore]:
    """The test store in a fresh PostgreSQL database MLflow makes its schema in."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI must set PARITY_TEST_POSTGRES_URL: the PostgreSQL tests may not skip")
        pytest.skip("PARITY_TEST_POSTGRES_URL is not set (CI sets it; see .ci/run)")
    import sqlalchemy as sa

    name = f"mlflow_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    server = sa.make_url(POSTGRES_URL).set(database=name)
    # What a user gives (postgresql://); MLflow's SQLAlchemy 2.1 would pick psycopg 3 for it,
    # which its venv has not: it is told psycopg2.
    uri = server.set(drivername="postgresql").render_as_string(hide_password=False)
    tool_uri = server.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    try:
        yield build_store(mlflow_python(), uri, tmp_path_factory.mktemp("mlflow-pg"), tool_uri)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
