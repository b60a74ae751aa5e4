"""The model page's forms: what a change says afterwards comes from a fixed set of notices,
never from text in the address; a refusal is shown with the post's own answer (issue 15,
items 11 and 13)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from parity.api import runs as runs_api
from parity.monitor.reference import store_profile
from parity.workspace import now_ms
from tests.ui.conftest import ServedUI


@pytest.fixture
def writer(served: ServedUI) -> Iterator[httpx.Client]:
    """A browser-like client signed in with a writer's token through the sign-in page."""
    with httpx.Client(base_url=served.url, follow_redirects=False) as client:
        form = client.get("/login")
        answer = client.post(
            "/login", data={"csrf": _csrf(form.text), "token": served.tokens["writer"]}
        )
        assert answer.status_code == 303, answer.text
        yield client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_text_in_the_address_is_never_shown_as_an_alert(writer: httpx.Client) -> None:
    bait = "Your session expired: call +1 555 0100"
    for key in ("error", "done", "notice", "message"):
        page = writer.get("/models/churn", params={key: bait})
        assert page.status_code == 200
        assert "555 0100" not in page.text
        assert 'role="alert"' not in page.text


def test_a_refused_alias_move_is_shown_in_the_post_s_answer_not_its_address(
    writer: httpx.Client,
) -> None:
    page = writer.get("/models/churn?version=1")
    answer = writer.post(
        "/models/churn/alias",
        data={"csrf": _csrf(page.text), "alias": "staging-x", "version": "99"},
    )
    assert answer.status_code == 404  # rendered here, not a redirect carrying the text
    assert 'role="alert"' in answer.text
    assert "99" in answer.text
    again = writer.get("/models/churn?version=1")
    assert 'role="alert"' not in again.text


def test_a_moved_alias_returns_to_its_version_saying_so(writer: httpx.Client) -> None:
    page = writer.get("/models/churn?version=1")
    assert re.search(r'<option value="1" selected>', page.text)  # the version shown
    answer = writer.post(
        "/models/churn/alias",
        data={"csrf": _csrf(page.text), "alias": "ui-fixes-test", "version": "1"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/models/churn?version=1&done=alias"
    back = writer.get(answer.headers["location"])
    assert "Alias moved." in back.text
    assert 'class="shown"' in back.text
    assert re.search(r'<tr data-version="1" class="shown">', back.text)


def test_the_history_says_what_changed_in_words_with_links(
    served: ServedUI, writer: httpx.Client
) -> None:
    page = writer.get("/models/churn").text
    history = page.split("<h2>History</h2>")[1]
    assert '{"' not in history  # no raw JSON
    version = served.context.workspace.registry.versions("churn")[0]
    assert (
        f'run <a class="mono" href="/runs/{version.run_id}" title="{version.run_id}">'
        f"{version.run_id[:12]}</a>" in history
    )
    assert f'model <span class="mono" title="{version.model_id}">{version.model_id[:12]}' in history
    assert 'version <a href="?version=1">1</a>' in history


def test_the_drift_link_opens_the_production_version(writer: httpx.Client) -> None:
    page = writer.get("/models/churn").text
    assert 'id="drift-link" href="/models/churn/drift?version=%40production"' in page


def test_a_baseline_window_in_the_wrong_order_is_explained_in_the_form_s_words(
    writer: httpx.Client,
) -> None:
    page = writer.get(
        "/models/churn/drift", params={"baseline_from": "7d", "baseline_until": "14d"}
    ).text
    assert "the baseline window ends before it starts" in page
    assert "14d..7d" not in page
    assert "from 14d ago until 7d ago" in page


def test_a_data_version_s_profile_is_named_by_its_path(
    served: ServedUI, writer: httpx.Client
) -> None:
    ws = served.context.workspace
    # the tuned run's input: not the training data of model churn, whose profile stays unset
    version = runs_api.get(served.scenario.tuned, workspace=ws).inputs[0].data_version
    profile = store_profile(
        ws.records, ws.monitoring, served.scenario.folder / "train.csv", version, now_ms()
    )
    page = writer.get("/models/churn/drift", params={"version": "/1", "against": profile}).text
    assert f"profile {profile[:12]} of train.csv @ {version[:12]}" in page
