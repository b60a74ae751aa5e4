"""Small things a first visit meets (issue 15, items 20 and 21): the sign-in page keeps the
user name after a wrong password and shows no navigation to a signed-out visitor; the site
has an icon; an error page names who is signed in."""

from __future__ import annotations

import dataclasses
import re

import httpx

from parity.core.environment import Environment, NativeLibrary
from parity.ui.templating import render_text, when
from tests.ui.conftest import ServedUI


def test_a_wrong_password_keeps_the_user_name_and_no_nav_is_shown(served: ServedUI) -> None:
    with httpx.Client(base_url=served.url) as client:
        form = client.get("/login")
        assert "<nav>" not in form.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        answer = client.post(
            "/login", data={"csrf": csrf.group(1), "user": "ada", "password": "wrong"}
        )
        assert answer.status_code == 401
        assert 'name="user" value="ada"' in answer.text
        assert "<nav>" not in answer.text


def test_the_site_has_an_icon(served: ServedUI) -> None:
    icon = httpx.get(served.url + "/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    page = httpx.get(served.url + "/login").text
    assert re.search(
        r'<link rel="icon" type="image/svg\+xml" href="/static/favicon\.\w+\.svg">', page
    )


def test_an_error_page_names_who_is_signed_in(served: ServedUI) -> None:
    headers = {"Authorization": f"Bearer {served.tokens['reader']}", "Accept": "text/html"}
    answer = httpx.get(served.url + "/runs/ffffffff", headers=headers)
    assert answer.status_code == 404
    assert 'class="user" data-role="reader"' in answer.text
    assert "<nav>" in answer.text


def test_every_time_says_it_is_utc() -> None:
    assert when(1_760_000_000_000) == "2025-10-09 08:53:20 UTC"


def test_a_native_library_not_loaded_says_so_rather_than_blank(served: ServedUI) -> None:
    captured = Environment.from_record(served.context.workspace.records.get(served.scenario.env_a))
    bundled = NativeLibrary("openmp", "openmp", None, None, None, None, "libgomp.so.1", "numpy")
    environment = dataclasses.replace(captured, native=(bundled,))
    page = render_text(
        "environment.html", viewer=None, can_write=False, csrf="", path="/environments/x",
        env=environment, env_id=served.scenario.env_a, advisories=None, audit=None,
        audit_error=None, findings=[], severity_risk={},
    )  # fmt: skip
    assert ">not loaded</span></td>" in page
