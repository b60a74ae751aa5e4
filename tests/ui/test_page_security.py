"""The gate in front of every page, checked page by page from the route table's PAGE_ROUTES,
as tests/server/test_security.py checks every API route: a page added to the table is covered
here without a new test. Pages differ from the API in what a refusal looks like (a browser
without a session goes to the sign-in page) and in their bodies (forms, CSRF-checked)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.dependencies.utils import get_dependant

from parity.core.roles import Role
from parity.server.route_table import PAGE_ROUTES
from parity.server.routing import PUBLIC, Route
from tests.server.live import TeamServer, team_server
from tests.server.probes import MADE_UP, PARAMETER, concrete_path, parameters, roles_below, send_raw
from tests.server.test_advisories import REFUSED

NON_PUBLIC = tuple(r for r in PAGE_ROUTES if r.access is not PUBLIC)
WRITES = tuple(r for r in PAGE_ROUTES if r.writes)
PARAMETERIZED = tuple(r for r in PAGE_ROUTES if parameters(r))


def query_parameters(route: Route) -> list[str]:
    """The names of a page's query parameters, as FastAPI reads them from its handler."""
    dependant = get_dependant(path=route.full_path, call=route.endpoint)
    return [q.alias for q in dependant.query_params]


QUERIED = tuple(r for r in PAGE_ROUTES if r.method == "GET" and query_parameters(r))
FORM = "application/x-www-form-urlencoded"
# A well-formed value for each page parameter that names nothing on a fresh server.
VALUES = {"experiment": "madeup", "run_id": "abcdef12", "name": "madeup", "env_id": "abcdef12"}


def page_id(route: Route) -> str:
    return f"{route.method} {route.path}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    with team_server(tmp_path_factory.mktemp("pages") / "served") as running:
        yield running


def _send(
    server: TeamServer, route: Route, token: str | None, headers: dict[str, str] | None = None
) -> httpx.Response:
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    content = None
    if route.writes:
        content = b"csrf=x"
        sent.setdefault("Content-Type", FORM)
    path = concrete_path(route, VALUES)
    return httpx.request(route.method, server.url + path, content=content, headers=sent)


def test_every_page_is_declared_once_with_a_role() -> None:
    seen = [(route.method, route.full_path) for route in PAGE_ROUTES]
    assert len(seen) == len(set(seen))
    assert all(route.page for route in PAGE_ROUTES)
    assert all(isinstance(r.access, Role) or r.access is PUBLIC for r in PAGE_ROUTES)
    assert not any(r.full_path.startswith("/api/") for r in PAGE_ROUTES)


@pytest.mark.parametrize("route", NON_PUBLIC, ids=page_id)
def test_a_page_refuses_no_session_and_too_small_a_role_and_admits_its_own(
    server: TeamServer, route: Route
) -> None:
    assert isinstance(route.access, Role)
    anonymous = _send(server, route, None)
    if route.method == "GET":  # a browser is sent to sign in, and back afterwards
        assert anonymous.status_code == 303, anonymous.text
        assert anonymous.headers["location"].startswith("/login?next=")
    else:
        assert anonymous.status_code == 401, anonymous.text
    for role in roles_below(route.access):
        below = _send(server, route, server.tokens[role])
        assert below.status_code == 403, (role, below.text)
        assert f"needs the {route.access.label} role" in below.text
    exact = _send(server, route, server.tokens[route.access])
    assert exact.status_code not in (401, 403) or "security token" in exact.text, exact.text
    assert exact.status_code < 500, exact.text


@pytest.mark.parametrize("route", NON_PUBLIC, ids=page_id)
def test_a_malformed_authorization_is_refused(server: TeamServer, route: Route) -> None:
    for value in ("Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer pty_x_y", server.admin):
        answer = _send(server, route, None, headers={"Authorization": value})
        assert answer.status_code in (401, 303), (value, answer.text)


@pytest.mark.parametrize("route", WRITES, ids=page_id)
def test_a_page_form_takes_only_a_form_body_and_its_csrf_token(
    server: TeamServer, route: Route
) -> None:
    token = server.admin if isinstance(route.access, Role) else None
    for media in ("multipart/form-data; boundary=x", "text/plain", "application/json"):
        answer = _send(server, route, token, headers={"Content-Type": media})
        assert answer.status_code == 415, (media, answer.text)
    forged = _send(server, route, token)  # a form whose token is not the browser's cookie's
    assert forged.status_code == 403, forged.text
    assert "security token" in forged.text


@pytest.mark.parametrize("route", PARAMETERIZED, ids=page_id)
def test_traversal_payloads_on_every_page_parameter_get_4xx(
    server: TeamServer, route: Route
) -> None:
    wrong = []
    for parameter in parameters(route):
        for segment in REFUSED:

            def fill(
                match: re.Match[str], parameter: str = parameter, segment: str = segment
            ) -> str:
                return (
                    segment if match.group(1) == parameter else VALUES.get(match.group(1), MADE_UP)
                )

            target = PARAMETER.sub(fill, route.full_path)
            headers = {"Host": "127.0.0.1", "Authorization": f"Bearer {server.admin}"}
            body = b""
            if route.writes:
                headers["Content-Type"] = FORM
                body = b"csrf=x"
            headers["Content-Length"] = str(len(body))
            status, answer = send_raw(server.url, route.method, target, headers, body)
            if not 400 <= status < 500:
                wrong.append(f"{page_id(route)} {parameter}={segment!r}: {status} {answer[:200]!r}")
    assert wrong == []


@pytest.mark.parametrize("route", QUERIED, ids=page_id)
def test_traversal_payloads_in_every_page_query_parameter_are_harmless(
    server: TeamServer, route: Route
) -> None:
    """A page's query values (a path, a reference, a window) never make it read a file or
    fail: each payload is refused or shown as a page, and no file's contents come back."""
    wrong = []
    path = concrete_path(route, VALUES)
    for parameter in query_parameters(route):
        for segment in REFUSED:
            target = f"{path}?{parameter}={segment}"
            headers = {"Host": "127.0.0.1", "Authorization": f"Bearer {server.admin}"}
            status, answer = send_raw(server.url, "GET", target, headers)
            if status >= 500 or b"root:x:0:0" in answer:
                wrong.append(f"{page_id(route)} {parameter}={segment!r}: {status} {answer[:200]!r}")
    assert wrong == []


def test_the_artifact_download_is_a_page_behind_the_gate() -> None:
    """Downloads go through the page table (a reader's session), not the object API."""
    found = [r for r in PAGE_ROUTES if r.full_path == "/runs/{run_id}/artifact"]
    assert [(r.method, r.access) for r in found] == [("GET", Role.READER)]
    assert set(query_parameters(found[0])) == {"path", "file"}
