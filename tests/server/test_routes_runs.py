"""The tracking routes over real HTTP: batches stored once however often they are sent, strict
validation as JSON errors, searches paged by cursor, downsampled histories, experiment grants."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parity.core.errors import AccessDenied, NotFoundError, UsageError
from parity.core.roles import Role, Scope
from parity.core.run import Metric, RunStatus
from parity.core.run_filter import parse_filter, parse_sort
from parity.store.http.client import ServerClient
from parity.tracking.columns import batch_document
from parity.tracking.remote import RemoteRunStore
from tests.tracking.team import Served, serve

API = "/api/v1"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path / "served") as running:
        yield running


@pytest.fixture
def store(served: Served) -> Iterator[RemoteRunStore]:
    remote = RemoteRunStore(served.client("alice"))
    yield remote
    remote.client.close()


def _http(served: Served, role: Role = Role.WRITER, user: str = "alice") -> httpx.Client:
    token = served.token(user, role)
    return httpx.Client(base_url=served.url + API, headers={"Authorization": f"Bearer {token}"})


def _run(store: RemoteRunStore, experiment: str = "churn") -> str:
    return store.create(experiment=experiment, name=None, user="-", host=None, command=["t"])


def _points(count: int, key: str = "loss") -> list[Metric]:
    return [Metric(key, 1 / (s + 1), s, 1000 + s) for s in range(count)]


class LoseFirstAnswer(httpx.HTTPTransport):
    """Delivers each request, but the connection drops before the first answer arrives: the
    client cannot know the server stored the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/metrics") and not self.lost:
            response.read()
            self.lost += 1
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


def test_a_batch_sent_again_is_stored_once(served: Served, store: RemoteRunStore) -> None:
    run_id = _run(store)
    document = batch_document(_points(3000), "a" * 32)
    with _http(served) as http:
        for _ in range(3):
            answer = http.post(f"/runs/{run_id}/metrics", json=document)
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"points": 3000}
    assert store.count_metric_points(run_id) == 3000

    lossy = LoseFirstAnswer()
    retrying = RemoteRunStore(ServerClient(served.url, served.token("alice"), transport=lossy))
    retrying.log_metrics(run_id, _points(500, "acc"))  # sent twice: the first answer was lost
    assert lossy.lost == 1
    assert store.count_metric_points(run_id) == 3500
    assert store.metric_point_counts(run_id) == {"loss": 3000, "acc": 500}  # each on its own
    assert [p.step for p in store.metric_history(run_id, "acc")] == list(range(500))
    retrying.client.close()


def test_the_flat_columns_and_the_infinities(served: Served, store: RemoteRunStore) -> None:
    run_id = _run(store)
    flat = {
        "batch": "b" * 32,
        "keys": ["loss", "acc", "loss"],
        "values": [0.5, "inf", None],
        "steps": [0, 0, 1],
        "timestamps": [10, 10, 11],
    }
    with _http(served) as http:
        assert http.post(f"/runs/{run_id}/metrics", json=flat).json() == {"points": 3}
        shown = http.get(f"/runs/{run_id}").json()
    assert shown["metrics"] == {"acc": "inf", "loss": None}
    assert store.get(run_id).metrics == {"acc": float("inf"), "loss": None}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("GET", "/runs/not-a-run", None, 422, "run_id"),
        ("GET", "/runs/..%2f..%2fetc%2fpasswd", None, 404, "no such API route"),
        ("GET", f"/runs/{'0' * 32}", None, 404, "no run"),
        ("POST", "/experiments/..%2fother/runs", {}, 404, "no such API route"),
        ("POST", "/experiments/%00/runs", {}, 422, "experiment"),
        ("POST", "/runs/{run}/tags", {"tags": {"a": "nul\u0000byte"}}, 422, "tags"),
        ("POST", "/runs/{run}/tags", {"tags": {"bad'key": "x"}}, 422, "tags"),
        ("POST", "/runs/{run}/params", {"params": {"a": "b"}, "x": 1}, 422, "x"),
        ("POST", "/runs/{run}/metrics", {"batch": "short", "keys": []}, 422, "batch"),
        (
            "POST",
            "/runs/{run}/metrics",
            {"batch": "c" * 32, "keys": ["a"], "values": [], "steps": [1], "timestamps": [1]},
            400,
            "columns differ in length",
        ),
        (
            "POST",
            "/runs/{run}/metrics",
            {"batch": "c" * 32, "keys": ["a"], "values": [1], "steps": [2**63], "timestamps": [1]},
            422,
            "steps",
        ),
        ("POST", f"/runs/{'0' * 32}/params", {"params": {"a": "b"}}, 404, "no run"),
        ("GET", "/runs?filter=metrics.acc > 1 params.x = 'a'", None, 400, "at character 17"),
        (
            "GET",
            "/runs?filter=" + "(" * 300,
            None,
            400,
            "32 levels of parentheses and 'not' at character 33",
        ),
        ("GET", "/runs?filter=" + "not " * 1000, None, 400, "at character 129"),
        ("GET", "/runs?sort=-colour", None, 400, "has no key prefix"),
        ("GET", "/runs?cursor=bm90LWEtY3Vyc29y", None, 400, "cursor"),
        ("GET", "/runs?limit=5000", None, 422, "limit"),
        ("GET", "/runs/{run}/metrics/loss/history?buckets=0", None, 422, "buckets"),
        ("GET", f"/artifacts/{'../' * 5}/runs?kind=model", None, 404, "no such API route"),
    ],
)
def test_bad_requests_are_json_errors_that_name_the_problem(
    served: Served,
    store: RemoteRunStore,
    method: str,
    path: str,
    body: Any,
    status: int,
    words: str,
) -> None:
    run_id = _run(store)
    with _http(served) as http:
        answer = http.request(method, path.replace("{run}", run_id), json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert words in error["error"]
    assert error["code"] == {422: 2, 400: 2, 404: 3}[status]
    assert store.get(run_id).tags == {}


def test_pages_of_a_search_never_repeat_or_skip_a_run(
    served: Served, store: RemoteRunStore
) -> None:
    for index in range(25):
        run_id = _run(store)
        if index % 3:  # some runs lack the metric: they come last, in either direction
            store.log_metrics(run_id, [Metric("acc", float(index % 7), 0, 1)])
    made = 25
    for sort in ([], [parse_sort("-metrics.acc")], [parse_sort("metrics.acc")]):
        expected = [r.id for r in store.search(sort=sort)]
        seen: list[str] = []
        cursor = None
        while True:
            page = store.search_page(sort=sort, limit=4, cursor=cursor)
            seen += [r.id for r in page.runs]
            _run(store)  # a run made between pages (it has no metric: last when sorting by it)
            made += 1
            cursor = page.cursor
            if cursor is None:
                break
        assert len(seen) == len(set(seen))  # none twice
        assert [run_id for run_id in seen if run_id in expected] == expected  # none skipped
    everything = store.search()
    assert len(everything) == made
    with pytest.raises(UsageError, match="does not belong to this search"):
        store.search_page(expression=parse_filter("metrics.acc > 1"), cursor=page_cursor(store))
    assert len(store.search(limit=30)) == 30


def page_cursor(store: RemoteRunStore) -> str:
    cursor = store.search_page(limit=1).cursor
    assert cursor is not None
    return cursor


def test_a_history_in_buckets_keeps_its_spike(served: Served, store: RemoteRunStore) -> None:
    run_id = _run(store)
    points = [Metric("loss", 0.25, s, s) for s in range(20_000)]
    points[12_345] = Metric("loss", 99.0, 12_345, 12_345)
    store.log_metrics(run_id, points)
    started = time.monotonic()
    buckets = store.metric_buckets(run_id, "loss", 200)
    took = time.monotonic() - started
    assert len(buckets["max"]) == 200
    assert sum(buckets["counts"]) == 20_000
    assert max(buckets["max"]) == 99.0
    assert min(buckets["min"]) == 0.25
    assert buckets["last_steps"][-1] == 19_999
    assert took < 5
    assert store.metric_history(run_id, "loss") == points
    with _http(served, Role.READER) as http:
        whole = http.get(f"/runs/{run_id}/metrics/loss/history").json()
        missing = http.get(f"/runs/{run_id}/metrics/a%2Fb c/history").json()
    assert (whole["count"], whole["buckets"], len(whole["points"]["steps"])) == (
        20_000,
        None,
        20_000,
    )
    assert (missing["key"], missing["count"]) == ("a/b c", 0)


def test_the_caller_is_the_run_s_user_and_grants_count_on_their_experiment(
    served: Served, store: RemoteRunStore
) -> None:
    run_id = _run(store, "shared")
    assert store.get(run_id).user == "alice"
    served.token("bob", Role.READER)
    served.context.accounts.grant("bob", Scope.EXPERIMENT, "shared", Role.WRITER)
    bob = RemoteRunStore(served.client("bob", Role.READER))
    own = bob.create(experiment="shared", name="b", user="-", host=None, command=[])
    assert bob.get(own).user == "bob"
    assert [r.id for r in bob.search(experiment="shared")] == [own, run_id]
    with pytest.raises(AccessDenied, match=r"bob \(reader\) may not start a run"):
        bob.create(experiment="other", name=None, user="-", host=None, command=[])
    with _http(served, Role.READER, "bob") as http:
        assert http.get("/experiments/shared/runs").status_code == 200
        refused = http.post(f"/runs/{own}/tags", json={"tags": {"a": "1"}})
    assert refused.status_code == 403  # a run's own routes name no experiment: global role
    reader = RemoteRunStore(served.client("carol", Role.READER))
    with pytest.raises(AccessDenied, match="needs the writer role"):
        reader.set_tags(run_id, {"a": 1})
    assert reader.get(run_id).tags == {}
    bob.client.close()
    reader.client.close()


def test_experiments_runs_ends_and_the_api_description(
    served: Served, store: RemoteRunStore
) -> None:
    first, second = _run(store, "a"), _run(store, "b")
    _run(store, "b")
    store.delete(second)
    assert [(e.name, e.runs) for e in store.experiments()] == [("a", 1), ("b", 1)]
    store.end(first, RunStatus.KILLED, 137, end_ms=5)
    view = store.get(first)
    assert (view.status, view.exit_code, view.end_ms) == (RunStatus.KILLED, 137, 5)
    with pytest.raises(NotFoundError, match="no run"):
        store.end("f" * 32, RunStatus.FINISHED)
    again = store.create(
        experiment="a", name=None, user="-", host=None, command=[], run_id=first
    )  # a create sent twice returns the run it made
    assert again == first
    with pytest.raises(Exception, match="already exists"):
        store.create(experiment="b", name=None, user="-", host=None, command=[], run_id=first)
    document = httpx.get(f"{served.url}{API}/openapi.json").json()
    history = document["paths"]["/api/v1/runs/{run_id}/metrics/{key}/history"]["get"]
    assert history["x-parity-role"] == "reader"
    create = document["paths"]["/api/v1/experiments/{experiment}/runs"]["post"]
    assert create["x-parity-role"] == "writer"


def test_a_body_that_is_not_json_is_refused_as_a_json_error(
    served: Served, store: RemoteRunStore
) -> None:
    run_id = _run(store)
    with _http(served) as http:
        answer = http.post(
            f"/runs/{run_id}/tags",
            content=b"\xff{not json",
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "there was an error parsing the body",
        "code": 2,
        "hint": "see /api/v1/openapi.json for the request's shape",
    }
