"""A web UI session's life and the cookies that carry it: a session is never worth more than
what it was signed in with (its token's expiry and revocation, the user's password), its CSRF
token is made anew at sign-in and sign-out, its cookies are Secure behind a TLS proxy; and
every response carries the security headers, whoever made it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from parity.accounts.secrets import hash_password, split_token
from parity.core.roles import Role
from parity.server.app import create_app
from parity.server.context import build_context
from parity.server.settings import ServerSettings
from parity.ui.session import CSRF_COOKIE, SESSION_COOKIE
from tests.ui.conftest import PASSWORD, ServedUI


@pytest.fixture
def browser(served: ServedUI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, follow_redirects=False) as client:
        yield client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _sign_in(client: httpx.Client, **fields: str) -> httpx.Response:
    csrf = _csrf(client.get("/login").text)
    answer = client.post("/login", data={"csrf": csrf, **fields})
    assert answer.status_code == 303, answer.text
    return answer


def _session_id(client: httpx.Client) -> str:
    parts = split_token(client.cookies[SESSION_COOKIE])
    assert parts is not None
    return parts[0]


def test_a_session_ends_when_the_token_it_was_signed_in_with_is_revoked(
    served: ServedUI, browser: httpx.Client
) -> None:
    accounts = served.context.accounts
    token, info = accounts.create_token("bob", Role.READER, lifetime_ms=60_000)
    answer = _sign_in(browser, token=token)
    session = next(t for t in accounts.list_tokens("bob") if t.id == _session_id(browser))
    assert session.expires_ms == info.expires_ms  # not 12 hours: the token's own minute
    max_age = int(re.search(r"Max-Age=(\d+)", answer.headers["set-cookie"]).group(1))  # type: ignore[union-attr]
    assert 0 < max_age <= 60
    accounts.revoke_token(info.id)
    refused = browser.get("/")
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/login")


def test_a_session_posted_to_the_sign_in_page_does_not_renew_itself(
    served: ServedUI, browser: httpx.Client
) -> None:
    accounts = served.context.accounts
    token, info = accounts.create_token("bob", Role.READER)
    _sign_in(browser, token=token)
    first = _session_id(browser)
    _sign_in(browser, token=browser.cookies[SESSION_COOKIE])
    second = _session_id(browser)
    by_id = {t.id: t for t in accounts.list_tokens("bob")}
    assert second != first
    assert by_id[second].expires_ms == by_id[first].expires_ms
    accounts.revoke_token(info.id)  # ends the session of the session too
    assert browser.get("/").status_code == 303


def test_a_password_change_ends_the_user_s_sessions(
    served: ServedUI, browser: httpx.Client
) -> None:
    _sign_in(browser, user="ada", password=PASSWORD)
    assert browser.get("/").status_code == 200
    served.context.accounts.set_password("ada", hash_password(PASSWORD))
    time.sleep(2.1)  # each process keeps a checked token for 2 s (docs/server.md)
    assert browser.get("/").status_code == 303


def test_the_csrf_token_is_new_after_sign_in_and_sign_out_and_must_have_its_shape(
    served: ServedUI, browser: httpx.Client
) -> None:
    before = _csrf(browser.get("/login").text)
    browser.post("/login", data={"csrf": before, "token": served.tokens["writer"]})
    after = browser.cookies[CSRF_COOKIE]
    assert after != before
    assert _csrf(browser.get("/").text) == after
    # A value set in the browser by someone else, of any other shape, is refused.
    session = browser.cookies[SESSION_COOKIE]
    planted = browser.post(
        "/logout",
        data={"csrf": "x"},
        headers={"Cookie": f"{SESSION_COOKIE}={session}; {CSRF_COOKIE}=x"},
    )
    assert planted.status_code == 403
    out = browser.post("/logout", data={"csrf": after})
    assert out.status_code == 303
    assert browser.cookies[CSRF_COOKIE] != after


@pytest.mark.parametrize(
    ("trusted", "headers", "forced", "secure"),
    [
        ("10.0.8.0/24", {}, False, False),
        ("10.0.8.0/24", {"X-Forwarded-Proto": "https"}, False, True),
        ("10.0.8.0/24", {"Forwarded": 'for=1.2.3.4;proto="https"'}, False, True),
        ("10.9.0.0/16", {"X-Forwarded-Proto": "https"}, False, False),  # not from the proxy
        (None, {}, True, True),  # --secure-cookies
    ],
)
def test_cookies_are_secure_when_a_trusted_proxy_says_https_or_the_server_forces_it(
    served: ServedUI, trusted: str | None, headers: dict[str, str], forced: bool, secure: bool
) -> None:
    settings = ServerSettings(
        workspace=str(served.scenario.folder),
        trusted_proxies=(trusted,) if trusted else (),
        user_header="X-Forwarded-User" if trusted else None,
        secure_cookies=forced,
    )
    context = build_context(settings)
    try:
        app = create_app(context)
        with TestClient(app, base_url="http://127.0.0.1", client=("10.0.8.5", 5000)) as client:
            answer = client.get("/login", headers=headers)
        assert answer.status_code == 200
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(CSRF_COOKIE)
        assert ("; secure" in cookie.lower()) is secure
    finally:
        context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/login?next=" + "x" * 2001,
        "/models/churn/drift?windows=99",
        "/runs/abcdef12?x=1&run=" + "&run=".join(["a"] * 60),
        "/no/such/page",
    ],
)
def test_a_refused_page_carries_the_page_security_headers(served: ServedUI, path: str) -> None:
    answer = httpx.get(
        served.url + path, headers={"Authorization": f"Bearer {served.tokens['reader']}"}
    )
    assert answer.status_code >= 400
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/tokens", 200), ("/api/v1/whoami", 200), ("/api/v1/runs?limit=0", 422)],
)
def test_api_answers_are_not_stored_or_sniffed(served: ServedUI, path: str, status: int) -> None:
    answer = httpx.get(
        served.url + path, headers={"Authorization": f"Bearer {served.tokens['admin']}"}
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")


def test_a_static_file_keeps_its_own_cache_lifetime(served: ServedUI) -> None:
    page = httpx.get(served.url + "/login").text
    asset = re.search(r'(/static/[^"]+\.css)', page)
    assert asset is not None
    answer = httpx.get(served.url + asset.group(1))
    assert "max-age" in answer.headers["cache-control"]
    assert answer.headers["x-content-type-options"] == "nosniff"
