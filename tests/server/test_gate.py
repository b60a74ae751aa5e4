"""The gate in front of every route: tokens, roles, hosts, bodies, errors as JSON."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from parity.core.errors import AccessDenied, NotFoundError
from parity.store.http.client import ServerClient
from tests.server.live import TeamServer, team_server


@pytest.fixture
def server(tmp_path: Path) -> TeamServer:
    with team_server(tmp_path / "served") as running:
        yield running  # type: ignore[misc]


def test_health_needs_no_token_and_everything_else_does(server: TeamServer) -> None:
    assert httpx.get(f"{server.url}/api/v1/health").json()["status"] == "ok"
    refused = httpx.get(f"{server.url}/api/v1/whoami")
    assert refused.status_code == 401
    assert refused.json()["code"] == 2
    assert "token" in refused.json()["error"]


def test_a_token_names_its_user_and_role(server: TeamServer) -> None:
    with ServerClient(server.url, server.reader) as client:
        assert client.get("/whoami") == {"user": "admin", "role": "reader"}


def test_a_bad_token_is_refused_the_same_way_as_none(server: TeamServer) -> None:
    with (
        ServerClient(server.url, server.reader + "x") as client,
        pytest.raises(AccessDenied, match="unknown, revoked or expired"),
    ):
        client.get("/whoami")


def test_an_undeclared_route_is_not_found_as_json(server: TeamServer) -> None:
    with (
        ServerClient(server.url, server.admin) as client,
        pytest.raises(NotFoundError, match="no such API route"),
    ):
        client.get("/../../etc/passwd")


def test_a_foreign_host_name_is_refused(server: TeamServer) -> None:
    answer = httpx.get(f"{server.url}/api/v1/health", headers={"Host": "evil.example"})
    assert answer.status_code == 400
    assert "host name" in answer.json()["error"]


def test_the_description_is_openapi_3_1_and_marks_each_route_s_role(server: TeamServer) -> None:
    document = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert document["paths"]["/api/v1/health"]["get"]["security"] == []
    assert document["paths"]["/api/v1/whoami"]["get"]["x-parity-role"] == "reader"
