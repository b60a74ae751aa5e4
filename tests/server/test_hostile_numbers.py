"""Numbers and names past what the database columns hold are refused as bad input (4xx), never
as the database's failure (5xx); and a 5xx says nothing about the server's insides."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from parity.core.errors import DatabaseBusy, StorageError
from parity.server.errors import error_response
from tests.server.live import TeamServer, team_server

TOO_BIG = 2**31  # one past PostgreSQL's integer, the column version numbers live in


@pytest.fixture
def on_postgres(tmp_path: Path, postgres_url: str) -> Iterator[TeamServer]:
    with team_server(tmp_path / "served", metadata_url=postgres_url) as server:
        yield server


@pytest.mark.postgres
def test_version_numbers_past_the_column_are_bad_input(on_postgres: TeamServer) -> None:
    headers = {"Authorization": f"Bearer {on_postgres.writer}"}
    api = f"{on_postgres.url}/api/v1"
    for method, path, body in (
        ("GET", f"/models/bc/versions/{TOO_BIG}", None),
        ("GET", f"/models/bc/versions/{TOO_BIG}/lineage", None),
        ("POST", f"/models/bc/versions/{TOO_BIG}/lock", {"reason": "x"}),
        ("PUT", "/models/bc/aliases/production", {"version": TOO_BIG, "reason": "x"}),
        ("GET", f"/models/bc/versions/{TOO_BIG}/exports", None),
        ("GET", f"/models/bc/predictions?version={TOO_BIG}", None),
        ("GET", f"/model-versions?reference=bc/{TOO_BIG}", None),
        ("GET", f"/models/bc/predictions?after={2**63}", None),
    ):
        answer = httpx.request(method, api + path, json=body, headers=headers)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text)
        assert "postgresql" not in answer.text


@pytest.mark.postgres
def test_a_login_name_with_a_nul_is_bad_input(on_postgres: TeamServer) -> None:
    answer = httpx.post(
        f"{on_postgres.url}/api/v1/login", json={"user": "ad\x00min", "password": "x"}
    )
    assert answer.status_code == 422, answer.text


def test_a_server_failure_is_logged_whole_and_answered_bare(
    caplog: pytest.LogCaptureFixture,
) -> None:
    leaked = "postgresql+psycopg://parity:s3cret@db.internal/parity"
    with caplog.at_level(logging.ERROR, logger="parity.server"):
        answer = error_response(StorageError(f"database error on {leaked}: value out of range"))
    body = orjson.loads(bytes(answer.body))
    assert answer.status_code == 503
    assert body["code"] == StorageError.exit_code
    assert "storage failed" in body["error"]
    assert "s3cret" not in answer.body.decode()
    assert "db.internal" not in answer.body.decode()
    assert leaked in caplog.text  # the operator still learns why
    busy = error_response(DatabaseBusy(f"the database at {leaked} is busy with other writers"))
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"
    assert "s3cret" not in busy.body.decode()
