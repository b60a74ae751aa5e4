"""What one drift view may cost the server: its baseline built once, a bounded number of rows
read per span, a few views at once per user and in all, and an end when its browser left."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import anyio
import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from parity.api import models as models_api
from parity.api import monitor as monitor_api
from parity.server.costly import run_watched
from parity.ui.page import DISCONNECTED_STATE
from parity.workspace import now_ms
from tests.serve.live import live_server
from tests.ui.conftest import ServedUI

DAY = 86_400_000
MODEL = "drift-costs"


@pytest.fixture(scope="module")
def logged(served: ServedUI) -> list[str]:
    """A model of its own (other tests count churn's rows), served 400 rows thirty days ago and
    400 twenty-nine days ago; its input names."""
    ws = served.context.workspace
    models_api.register(f"{served.scenario.baseline}:model", MODEL, workspace=ws)
    names = models_api.record(f"{MODEL}/1", workspace=ws).signature.input_names  # type: ignore[union-attr]
    rng = random.Random(5)
    now = now_ms()
    ws.monitoring.append_predictions([
        {"time_ms": now - int(offset * DAY), "model": MODEL, "version": 1,
         "inputs": [rng.gauss(0, 1) for _ in names], "prediction": 0}
        for offset in (30.5, 29.5) for _ in range(400)
    ])  # fmt: skip
    return list(names)


@pytest.fixture
def reads(served: ServedUI, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every read of logged inputs the served workspace makes, with its arguments."""
    monitoring = served.context.workspace.monitoring
    original = monitoring.logged_inputs
    seen: list[dict[str, Any]] = []

    def counted(model: str, version: int | None = None, since_ms: int | None = None,
                **options: Any) -> list[list[Any]]:  # fmt: skip
        seen.append({"since_ms": since_ms, **options})
        return original(model, version, since_ms, **options)

    monkeypatch.setattr(monitoring, "logged_inputs", counted)
    return seen


def test_a_drift_page_builds_its_baseline_once_and_bounds_each_read(
    served: ServedUI, logged: list[str], reads: list[dict[str, Any]]
) -> None:
    headers = {"Authorization": f"Bearer {served.tokens['reader']}"}
    params = {"version": "/1", "since": "31d", "baseline_from": "31d", "baseline_until": "30d",
              "window": "1d", "windows": "5"}  # fmt: skip
    page = httpx.get(served.url + f"/models/{MODEL}/drift", params=params, headers=headers)
    assert page.status_code == 200, page.text
    early = now_ms() - 20 * DAY  # the baseline's read: the only bounded one that far back
    baseline_reads = [r for r in reads if r.get("until_ms") and r["since_ms"] < early]
    assert len(baseline_reads) == 1
    assert len(reads) == 1 + 1 + 5  # the baseline, the report, each window
    assert {r["newest"] for r in reads} == {monitor_api.MAX_VIEW_ROWS + 1}


def test_a_drift_view_checks_the_newest_rows_of_a_span_past_its_cap_and_says_so(
    served: ServedUI, logged: list[str]
) -> None:
    ws = served.context.workspace
    capped = monitor_api.drift_view(
        f"{MODEL}/1", since="31d", window="1d", count=2, baseline=("31d", "30d"), max_rows=150,
        workspace=ws,
    )  # fmt: skip
    assert capped.sampled
    assert capped.report.rows == 150
    whole = monitor_api.drift_view(
        f"{MODEL}/1", since="31d", window="1d", count=2, baseline=("31d", "30d"), workspace=ws
    )
    assert not whole.sampled
    assert whole.report.rows >= 800


def test_a_drift_view_stops_between_windows_when_asked(served: ServedUI, logged: list[str]) -> None:
    asked = iter([False, False, True])
    view = monitor_api.drift_view(
        f"{MODEL}/1", since="31d", window="1d", count=10, baseline=("31d", "30d"),
        stop=lambda: next(asked), workspace=served.context.workspace,
    )  # fmt: skip
    assert view.stopped
    assert len(view.windows) == 2


@pytest.mark.parametrize(("taken", "status"), [(["bob", "bob"], 429), (["a", "b", "c", "d"], 503)])
def test_drift_views_past_a_user_s_or_the_server_s_share_are_refused_with_retry_after(
    served: ServedUI, taken: list[str], status: int
) -> None:
    limiter = served.context.costly
    for user in taken:
        assert limiter.take(user) is None
    try:
        headers = {"Authorization": f"Bearer {served.tokens['reader']}", "Accept": "text/html"}
        page = httpx.get(served.url + "/models/churn/drift", headers=headers)
        api = httpx.get(served.url + "/api/v1/models/churn/versions/2/drift", headers=headers)
    finally:
        for user in taken:
            limiter.give_back(user)
    for answer in (page, api):
        assert answer.status_code == status, answer.text
        assert answer.headers["retry-after"] == "5"
    assert page.headers["content-type"].startswith("text/html")
    assert api.json()["error"].startswith(("you are running", "the server is running"))
    again = httpx.get(served.url + "/models/churn/drift", headers=headers)
    assert again.status_code == 200
    deadline = time.monotonic() + 5  # the slot is given back just after the answer is sent
    while limiter.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert limiter.running == {}


def test_a_costly_request_learns_that_its_client_went_away() -> None:
    saw: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        gone: threading.Event = scope["state"][DISCONNECTED_STATE]
        assert (await receive())["type"] == "http.request"

        def compute() -> None:  # a handler in a worker thread, checking between steps
            deadline = time.monotonic() + 60
            while not gone.is_set() and time.monotonic() < deadline:
                time.sleep(0.01)
            saw.append(gone.is_set())

        await anyio.to_thread.run_sync(compute)

    async def main() -> None:
        messages: list[Message] = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> Message:
            if messages:
                return messages.pop()
            await anyio.sleep(0.2)  # the client hangs up
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            pass

        started = time.monotonic()
        await run_watched(app, {"type": "http", "state": {}}, receive, send)
        assert time.monotonic() - started < 30  # not the 60 s of the handler's own deadline

    # In a thread of its own: the browser tests' Playwright keeps an event loop in this one.
    failures: list[BaseException] = []

    def run() -> None:
        try:
            anyio.run(main)
        except BaseException as exc:  # re-raised below, in the test's thread
            failures.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join()
    if failures:
        raise failures[0]
    assert saw == [True]


@pytest.mark.parametrize(
    ("window", "shown"),
    [("1m", False), ("29m", False), ("30m", True), ("1w", True), ("8d", False), ("52w", False)],
)
def test_the_drift_page_takes_windows_from_30m_to_1w_as_documented(
    served: ServedUI, logged: list[str], window: str, shown: bool
) -> None:
    headers = {"Authorization": f"Bearer {served.tokens['reader']}"}
    params = {"version": "/1", "window": window, "windows": "2", "baseline_from": "31d",
              "baseline_until": "30d"}  # fmt: skip
    page = httpx.get(served.url + f"/models/{MODEL}/drift", params=params, headers=headers)
    assert page.status_code == 200
    assert ("pick one from 30m to 1w" not in page.text) is shown
    assert ('id="over-time"' in page.text) is shown


def test_a_costly_request_served_by_uvicorn_stops_when_its_client_gives_up() -> None:
    stopped_after: list[float] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        gone: threading.Event = scope["state"][DISCONNECTED_STATE]

        def compute() -> None:
            began = time.monotonic()
            while not gone.is_set() and time.monotonic() - began < 60:
                time.sleep(0.02)
            stopped_after.append(time.monotonic() - began)

        await anyio.to_thread.run_sync(compute)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"late"})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await run_watched(handler, scope, receive, send)

    with live_server(app) as address:  # type: ignore[arg-type]
        with pytest.raises(httpx.TimeoutException):
            httpx.get(f"http://{address}/", timeout=1.0)
        deadline = time.monotonic() + 30
        while not stopped_after and time.monotonic() < deadline:
            time.sleep(0.05)
    assert stopped_after
    assert stopped_after[0] < 30  # the client's hang-up, not the handler's own 60 s


def test_the_page_says_when_it_read_only_the_newest_rows(
    served: ServedUI, logged: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = monitor_api.drift_view
    monkeypatch.setattr(monitor_api, "MAX_VIEW_ROWS", 150)
    monkeypatch.setattr(
        monitor_api, "drift_view", lambda *a, **k: original(*a, **{**k, "max_rows": 150})
    )
    headers = {"Authorization": f"Bearer {served.tokens['reader']}"}
    params = {"version": "/1", "since": "31d", "baseline_from": "31d", "baseline_until": "30d"}
    page = httpx.get(served.url + f"/models/{MODEL}/drift", params=params, headers=headers)
    assert page.status_code == 200, page.text
    assert 'id="sampled"' in page.text
    assert "newest 150 logged rows" in page.text
    monkeypatch.undo()
    whole = httpx.get(served.url + f"/models/{MODEL}/drift", params=params, headers=headers)
    assert whole.status_code == 200
    assert 'id="sampled"' not in whole.text
