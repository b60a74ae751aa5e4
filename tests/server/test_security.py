"""The gate, checked route by route from the route table: deny by default, roles, hosts,
proxies, bodies, CORS. A route added to the table is covered here without a new test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from parity.api import accounts
from parity.core.roles import Role, Scope
from parity.server.app import create_app
from parity.server.context import build_context
from parity.server.route_table import ROUTES
from parity.server.routing import PUBLIC, Route
from parity.server.settings import ServerSettings
from parity.workspace import init_workspace, open_workspace
from tests.serve.live import live_server
from tests.server.live import TeamServer, team_server
from tests.server.probes import (
    MADE_UP,
    NON_PUBLIC,
    WRITES,
    body_type,
    concrete_path,
    roles_below,
    route_id,
    send,
    send_raw,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    with team_server(tmp_path_factory.mktemp("security") / "served") as running:
        yield running


def test_the_table_declares_every_route_once_with_a_role() -> None:
    seen = [(route.method, route.full_path) for route in ROUTES]
    assert len(seen) == len(set(seen))
    assert all(isinstance(route.access, Role) or route.access is PUBLIC for route in ROUTES)
    # health and the description are public; signing in is the one public write
    public = {route_id(route) for route in ROUTES if route.access is PUBLIC}
    assert public == {"GET /api/v1/health", "GET /api/v1/openapi.json", "POST /api/v1/login"}


@pytest.mark.parametrize("route", NON_PUBLIC, ids=route_id)
def test_a_route_refuses_no_token_and_too_small_a_role_and_admits_its_own(
    server: TeamServer, route: Route
) -> None:
    assert isinstance(route.access, Role)
    anonymous = send(server.url, route, None)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    for role in roles_below(route.access):
        below = send(server.url, route, server.tokens[role])
        assert below.status_code == 403, (role, below.text)
        assert f"needs the {route.access.label} role" in below.json()["error"]
    exact = send(server.url, route, server.tokens[route.access])
    # Past the gate: the handler may refuse a made-up id or an empty body, never the caller.
    assert exact.status_code not in (401, 403), exact.text
    assert exact.status_code < 500, exact.text


@pytest.mark.parametrize("route", [r for r in ROUTES if r.access is PUBLIC], ids=route_id)
def test_a_public_route_answers_without_a_token(server: TeamServer, route: Route) -> None:
    answer = send(server.url, route, None)
    assert answer.status_code not in (401, 403)
    assert answer.status_code < 500


@pytest.mark.parametrize("route", NON_PUBLIC, ids=route_id)
def test_a_malformed_authorization_is_refused_as_no_token(server: TeamServer, route: Route) -> None:
    for value in ("Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer pty_x_y", server.admin):
        answer = send(server.url, route, None, headers={"Authorization": value})
        assert answer.status_code == 401, (value, answer.text)


def granted_ping(name: str) -> dict[str, str]:
    """A test-only route: writes on one model name, by role or by grant."""
    return {"model": name}


def test_an_endpoint_added_to_the_app_without_a_declaration_refuses_every_request(
    tmp_path: Path,
) -> None:
    init_workspace(tmp_path)[0].close()
    context = build_context(ServerSettings(workspace=str(tmp_path)))
    try:
        served = create_app(context)
        gate = served.app  # behind the security headers' middleware

        def sneaky() -> dict[str, str]:
            return {"secret": "exposed"}

        # Behind the gate, as a careless edit of app.py (or a plugin) would add it.
        gate.app.add_api_route("/api/v1/sneaky", sneaky, methods=["GET"])
        gate.app.add_api_route("/api/v1/sneaky", sneaky, methods=["POST"])
        with live_server(served) as address:
            for method in ("GET", "POST"):
                answer = httpx.request(method, f"http://{address}/api/v1/sneaky")
                assert answer.status_code == 404, answer.text
                assert "no such API route" in answer.json()["error"]
                assert "exposed" not in answer.text
    finally:
        context.close()


def test_a_grant_raises_a_role_on_its_own_scope_only(tmp_path: Path) -> None:
    probe = Route(
        "POST", "/probe/{name}", Role.WRITER, granted_ping, "Probe", scope=(Scope.MODEL, "name")
    )
    scoped = [route for route in ROUTES if route.scope is not None] + [probe]
    folder = tmp_path / "served"
    init_workspace(folder)[0].close()
    with open_workspace(folder, environ={}) as served:
        accounts.create_user("ci", workspace=served)
        token, _ = accounts.create_token("ci", role="reader", workspace=served)
        # One grant per scope, at the largest role any of its routes needs: the gate caches a
        # token's principal for a moment, so grants are made before the first request.
        needed: dict[Scope, Role] = {}
        for route in scoped:
            assert route.scope is not None
            access = route.access if isinstance(route.access, Role) else Role.READER
            needed[route.scope[0]] = max(access, needed.get(route.scope[0], Role.READER))
        for kind, role in needed.items():
            accounts.grant("ci", role=role.label, workspace=served, **{kind.value: MADE_UP})
    context = build_context(ServerSettings(workspace=str(folder)))
    try:
        with live_server(create_app(context, (*ROUTES, probe))) as address:
            base = f"http://{address}"
            for route in scoped:
                assert route.scope is not None
                _kind, parameter = route.scope
                other = concrete_path(route, {parameter: "another"})
                mine = concrete_path(route, {parameter: MADE_UP})
                if isinstance(route.access, Role) and route.access > Role.READER:
                    refused = send(base, route, token, path=other)
                    assert refused.status_code == 403, (route_id(route), refused.text)
                admitted = send(base, route, token, path=mine)
                assert admitted.status_code not in (401, 403), (route_id(route), admitted.text)
                assert admitted.status_code < 500
    finally:
        context.close()


@pytest.mark.parametrize("route", WRITES, ids=route_id)
def test_a_write_takes_only_its_own_body_type_so_no_cross_site_form_can_write(
    server: TeamServer, route: Route
) -> None:
    token = server.admin if isinstance(route.access, Role) else None
    forms = ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain")
    other = "application/json" if route.raw_body else "application/octet-stream"
    for media in (*forms, other):
        answer = send(server.url, route, token, headers={"Content-Type": media})
        assert answer.status_code == 415, (media, answer.text)
        assert body_type(route) in answer.json()["hint"] or "json" in answer.json()["hint"]


@pytest.mark.parametrize("route", WRITES, ids=route_id)
def test_a_body_larger_than_the_route_takes_is_refused_before_it_is_read(
    server: TeamServer, route: Route
) -> None:
    headers = {
        "Host": "127.0.0.1",
        "Content-Type": body_type(route),
        "Content-Length": str(route.max_body + 1),
    }
    if isinstance(route.access, Role):
        headers["Authorization"] = f"Bearer {server.admin}"
    # Only the headers go out: the gate must answer without waiting for the body.
    status, body = send_raw(server.url, route.method, concrete_path(route), headers)
    assert status == 413, body


def test_a_streamed_body_over_the_limit_is_cut_off_with_413(server: TeamServer) -> None:
    route = next(r for r in WRITES if r.max_body < 1 << 20)

    def chunks() -> Iterator[bytes]:
        yield b'{"user": "'
        for _ in range(route.max_body // 1000 + 2):
            yield b"x" * 1000
        yield b'", "password": "x"}'

    answer = httpx.request(
        route.method,
        server.url + concrete_path(route),
        content=chunks(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {server.admin}"},
    )
    assert answer.status_code == 413, answer.text


def test_a_trusted_proxy_names_the_user_and_nobody_else_may(tmp_path: Path) -> None:
    header = "X-Forwarded-User"
    for cidr, trusted in (("127.0.0.0/8", True), ("10.0.0.0/8", False)):
        options = {"trusted_proxies": (cidr,), "user_header": header}
        with team_server(tmp_path / cidr.replace("/", "_"), **options) as server:
            with open_workspace(Path(server.settings.workspace), environ={}) as served:
                accounts.create_user("ada", workspace=served)
            named = httpx.get(f"{server.url}/api/v1/whoami", headers={header: "ada"})
            if trusted:
                assert named.json() == {"user": "ada", "role": "writer"}
            else:
                assert named.status_code == 401
            unknown = httpx.get(f"{server.url}/api/v1/whoami", headers={header: "mallory"})
            assert unknown.status_code == 401
            # a token, when given, is the caller, whatever the header says
            both = httpx.get(
                f"{server.url}/api/v1/whoami",
                headers={header: "ada", "Authorization": f"Bearer {server.reader}"},
            )
            assert both.json() == {"user": "admin", "role": "reader"}


def test_only_the_allowed_host_names_are_answered(tmp_path: Path) -> None:
    with team_server(tmp_path / "served", allowed_hosts=("parity.example.org",)) as server:
        for host, status in (
            ("parity.example.org", 200),
            ("parity.example.org:443", 200),
            ("127.0.0.1", 200),
            ("evil.example", 400),
            ("parity.example.org.evil.example", 400),
        ):
            answer = httpx.get(f"{server.url}/api/v1/health", headers={"Host": host})
            assert answer.status_code == status, host


def test_no_cors_header_unless_an_origin_is_configured(server: TeamServer, tmp_path: Path) -> None:
    origin = "https://ui.example.org"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    plain = httpx.get(f"{server.url}/api/v1/health", headers={"Origin": origin})
    assert "access-control-allow-origin" not in plain.headers
    asked = httpx.options(f"{server.url}/api/v1/tokens", headers=preflight)
    assert "access-control-allow-origin" not in asked.headers
    with team_server(tmp_path / "cors", cors_origins=(origin,)) as open_to_ui:
        allowed = httpx.options(f"{open_to_ui.url}/api/v1/tokens", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == origin
        evil = httpx.get(
            f"{open_to_ui.url}/api/v1/health", headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in evil.headers


def test_a_browser_on_another_site_cannot_change_anything_in_local_mode(tmp_path: Path) -> None:
    """Local mode trusts every loopback caller: a page elsewhere could make the browser send a
    body-less POST (no preflight needed). Its Origin gives it away."""
    with team_server(tmp_path / "local", users=False, local_user="alice") as local:
        api = f"{local.url}/api/v1"
        created = httpx.post(f"{api}/experiments/e/runs", json={})
        assert created.status_code == 201, created.text
        run_id = created.json()["run_id"]
        assert httpx.delete(f"{api}/runs/{run_id}").status_code == 204
        evil = httpx.post(
            f"{api}/runs/{run_id}/restore", headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403, evil.text
        assert "a change from another site (https://evil.example) is refused" in evil.text
        null = httpx.post(f"{api}/runs/{run_id}/restore", headers={"Origin": "null"})
        assert null.status_code == 403
        host = urlsplit(local.url).netloc
        own = httpx.post(f"{api}/runs/{run_id}/restore", headers={"Origin": f"http://{host}"})
        assert own.status_code == 204, own.text  # the server's own pages
        assert httpx.post(f"{api}/runs/{run_id}/restore").status_code == 204  # a script, the CLI
        reading = httpx.get(f"{api}/runs/{run_id}", headers={"Origin": "https://evil.example"})
        assert reading.status_code == 200  # reads are CORS's business: no header, no access
