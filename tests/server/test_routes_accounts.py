"""The account routes: admins manage tokens over HTTP; a password buys a short-lived token,
a few times a minute; expired and revoked tokens stop working."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from parity.api import accounts
from parity.core.errors import AccessDenied, NotFoundError, UsageError
from parity.store.http.client import ServerClient
from parity.store.meta.account_tables import write_log
from parity.workspace import open_workspace
from tests.server.live import TeamServer, team_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TeamServer]:
    with team_server(tmp_path / "served", login_attempts_per_minute=3) as running:
        yield running


def _served(server: TeamServer) -> Path:
    return Path(server.settings.workspace)


def _refused_soon(url: str, token: str, within_s: float = 5.0) -> float:
    """Seconds until the server refuses ``token`` (a server caches a token for 2 s)."""
    began = time.monotonic()
    while time.monotonic() - began < within_s:
        answer = httpx.get(f"{url}/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        if answer.status_code == 401:
            return time.monotonic() - began
        assert answer.status_code == 200
        time.sleep(0.1)
    raise AssertionError(f"the token still works after {within_s} s")


def test_an_admin_creates_lists_and_revokes_tokens_over_http(server: TeamServer) -> None:
    with open_workspace(_served(server), environ={}) as served:
        accounts.create_user("ci", workspace=served)
    with ServerClient(server.url, server.admin) as admin:
        made = admin.post("/tokens", {"user": "ci", "role": "reader", "label": "nightly"})
        assert made["info"]["user"] == "ci"
        assert made["info"]["role"] == "reader"
        assert made["info"]["expires_ms"] is None
        with ServerClient(server.url, made["token"]) as ci:
            assert ci.get("/whoami") == {"user": "ci", "role": "reader"}
        listed = admin.get("/tokens", params={"user": "ci"})
        assert {t["label"]: t["id"] for t in listed}["nightly"] == made["info"]["id"]
        assert sorted(t["label"] for t in listed) == ["first token", "nightly"]
        assert made["token"] not in str(admin.get("/tokens"))
        assert [u["name"] for u in admin.get("/users")] == ["admin", "ci"]
        with pytest.raises(UsageError, match="not an admin"):
            admin.post("/tokens", {"user": "ci", "role": "admin"})
        with pytest.raises(NotFoundError, match="no user"):
            admin.post("/tokens", {"user": "nobody", "role": "reader"})
        assert admin.delete(f"/tokens/{made['info']['id']}") == {"revoked": made["info"]["id"]}
        with pytest.raises(NotFoundError, match="no active token"):
            admin.delete(f"/tokens/{made['info']['id']}")
    assert _refused_soon(server.url, made["token"]) < 3.0


def test_every_accepted_write_is_in_the_audit_trail_with_its_user(server: TeamServer) -> None:
    with ServerClient(server.url, server.admin) as admin:
        made = admin.post("/tokens", {"user": "admin", "role": "reader"})
        with pytest.raises(UsageError):
            admin.post("/tokens", {"user": "admin", "role": "nobody"})
    with open_workspace(_served(server), environ={}) as served, served.meta.read() as connection:
        rows = connection.execute(select(write_log)).mappings().all()
    assert [(r["user"], r["method"], r["path"], r["status"]) for r in rows] == [
        ("admin", "POST", "/api/v1/tokens", 201)
    ]
    assert rows[0]["token_id"] == server.admin.split("_")[1]
    assert made["token"] not in str(rows)


def test_a_token_stops_working_when_it_expires(server: TeamServer) -> None:
    with ServerClient(server.url, server.admin) as admin:
        # Long enough to be used once on a loaded machine, short enough to wait out.
        short = admin.post("/tokens", {"user": "admin", "role": "reader", "expires": "5s"})
    with ServerClient(server.url, short["token"]) as client:
        assert client.get("/whoami")["role"] == "reader"
    assert short["info"]["expires_ms"] - short["info"]["created_ms"] == 5000
    _refused_soon(server.url, short["token"], within_s=10.0)


def test_a_password_signs_in_with_a_short_lived_token_of_the_user_s_role(
    server: TeamServer,
) -> None:
    with open_workspace(_served(server), environ={}) as served:
        accounts.create_user("bob", workspace=served)
        accounts.set_password("bob", "correct horse battery", workspace=served)
    answer = httpx.post(
        f"{server.url}/api/v1/login", json={"user": "bob", "password": "correct horse battery"}
    )
    assert answer.status_code == 200, answer.text
    signed_in = answer.json()
    assert (signed_in["user"], signed_in["role"]) == ("bob", "writer")
    assert 0 < signed_in["expires_ms"] - time.time() * 1000 <= 12 * 3_600_000
    with ServerClient(server.url, signed_in["token"]) as bob:
        assert bob.get("/whoami") == {"user": "bob", "role": "writer"}
    with open_workspace(_served(server), environ={}) as served:  # a new password ends it
        accounts.set_password("bob", "correct horse battery", workspace=served)
    _refused_soon(server.url, signed_in["token"], within_s=10.0)
    wrong = httpx.post(
        f"{server.url}/api/v1/login", json={"user": "bob", "password": "wrong horse battery"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "wrong user name or password"
    nobody = httpx.post(
        f"{server.url}/api/v1/login", json={"user": "eve", "password": "correct horse battery"}
    )
    assert nobody.json() == wrong.json()


def test_sign_in_attempts_are_limited_per_address_and_user(server: TeamServer) -> None:
    def attempt(user: str) -> httpx.Response:
        return httpx.post(
            f"{server.url}/api/v1/login", json={"user": user, "password": "guessing-1234"}
        )

    assert [attempt("admin").status_code for _ in range(3)] == [401, 401, 401]
    limited = attempt("admin")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "60"
    assert "too many sign-in attempts" in limited.json()["error"]
    assert attempt("someone-else").status_code == 401


def test_a_login_body_is_json_and_small(server: TeamServer) -> None:
    form = httpx.post(f"{server.url}/api/v1/login", data={"user": "a", "password": "b"})
    assert form.status_code == 415
    big = httpx.post(f"{server.url}/api/v1/login", json={"user": "admin", "password": "x" * 5000})
    assert big.status_code == 413


def test_only_an_admin_manages_tokens(server: TeamServer) -> None:
    with ServerClient(server.url, server.writer) as writer:
        with pytest.raises(AccessDenied, match="needs the admin role"):
            writer.get("/tokens")
        with pytest.raises(AccessDenied, match="needs the admin role"):
            writer.post("/tokens", {"user": "admin", "role": "admin"})


def test_one_address_guessing_many_names_is_limited_too(server: TeamServer) -> None:
    def attempt(user: str) -> int:
        return httpx.post(
            f"{server.url}/api/v1/login", json={"user": user, "password": "guessing-1234"}
        ).status_code

    # 3 a minute per name, 5 times that per address: the 16th name is refused unheard.
    assert {attempt(f"name-{n}") for n in range(15)} == {401}
    assert attempt("name-15") == 429


def test_password_checks_run_at_most_n_at_once() -> None:
    import threading

    from parity.server.settings import LoginLimiter

    limiter = LoginLimiter(per_minute=10, concurrent=2)
    release = threading.Event()
    held: list[bool] = []

    def hold() -> None:
        with limiter.checking(1.0) as slot:
            held.append(slot)
            release.wait(5)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for thread in holders:
        thread.start()
    while len(held) < 2:
        threading.Event().wait(0.01)
    with limiter.checking(0.05) as third:
        assert third is False  # both slots busy: refused after the wait, no third argon2
    release.set()
    for thread in holders:
        thread.join()
    with limiter.checking(0.05) as later:
        assert later is True
    assert held == [True, True]
