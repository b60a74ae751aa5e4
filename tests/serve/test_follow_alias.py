"""``parity serve NAME@ALIAS --follow-alias``: the server switches versions as the alias moves.

Three versions of ``bc``: 1 is the breast-cancer pipeline, 2 the same pipeline fitted on the
flipped labels (so it answers exactly the opposite class: a response's predictions show which
version answered, and must agree with its ``X-Model-Version`` header), and 3 is version 1 saved
with a recorded environment whose scikit-learn has another minor version (its environment
check fails here, so it must never answer).
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from parity.api import models
from parity.core.errors import (
    AccessDenied,
    CorruptObject,
    DatabaseBusy,
    NotFoundError,
    ParityError,
    StorageError,
)
from parity.serve.state import ServingState
from parity.workspace import Workspace
from tests.conftest import run_parity

FAST_POLL = 0.05  # seconds: the in-process tests poll this often
ROWS = 8  # the rows the tests predict


def _other_minor(version: str) -> str:
    major, minor, *_ = version.split(".")
    return f"{major}.{int(minor) + 1}.0"


@pytest.fixture
def three_versions(served_workspace: Workspace, breast_cancer: tuple[Any, Any]) -> Workspace:
    """bc/1 (production), bc/2 answering the opposite class, bc/3 from another scikit-learn."""
    from sklearn.base import clone

    from parity.env import capture
    from parity.env.records import store_environment

    model, features = breast_cancer
    target = model.predict(features)
    flipped = clone(model).fit(features, 1 - target)
    # The tests send the first rows: there the two versions answer opposite classes.
    assert (flipped.predict(features.iloc[:ROWS]) != target[:ROWS]).all()
    workspace, actor = served_workspace, served_workspace.actor()
    model_id, _ = models.save(flipped, input_example=features, workspace=workspace)
    workspace.registry.register("bc", model_id, actor)
    here = capture()
    elsewhere = dataclasses.replace(
        here,
        distributions=tuple(
            dataclasses.replace(d, version=_other_minor(d.version))
            if d.name == "scikit-learn"
            else d
            for d in here.distributions
        ),
    )
    environment_id = store_environment(workspace.records, elsewhere, 1)
    model_id, _ = models.save(
        model, input_example=features, environment_id=environment_id, workspace=workspace
    )
    workspace.registry.register("bc", model_id, actor)
    return workspace


# ---------------------------------------------------------------- in process: the follower


def _follower_client(workspace: Workspace) -> tuple[Any, TestClient, list[str]]:
    from parity.api import serving
    from parity.api._serving import alias_follower
    from parity.serve.app import create_app

    warnings: list[str] = []
    readiness = serving.check("bc/1", workspace=workspace)
    state = serving.load("bc/1", readiness=readiness, sample_rate=0, workspace=workspace)
    state.alias = "production"
    follower = alias_follower(
        workspace,
        "bc@production",
        state,
        create_app,
        verify_env=True,
        sample_rate=0,
        allow_unrestricted_pickle=False,
        poll_interval=FAST_POLL,
        report=warnings.append,
        warn=warnings.append,
    )
    return follower, TestClient(follower), warnings


def _wait_for(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.02)


def _predict(client: TestClient, rows: list[dict[str, Any]]) -> tuple[str, list[int]]:
    answer = client.post("/predict", json=rows)
    assert answer.status_code == 200, answer.text
    return answer.headers["x-model-version"], answer.json()["predictions"]


def test_the_follower_switches_refuses_a_failing_version_and_outlives_a_removed_alias(
    three_versions: Workspace, breast_cancer: tuple[Any, Any]
) -> None:
    model, features = breast_cancer
    rows = features.iloc[:ROWS].to_dict(orient="records")
    expected = model.predict(features.iloc[:ROWS]).tolist()
    registry, actor = three_versions.registry, three_versions.actor()
    follower, client, said = _follower_client(three_versions)
    with client:
        assert _predict(client, rows) == ("bc/1", expected)
        registry.set_alias("bc", 2, "production", actor, reason="try 2")
        _wait_for(lambda: follower.switches == 1, "the switch to bc/2")
        assert _predict(client, rows) == ("bc/2", [1 - p for p in expected])
        health = client.get("/health").json()
        assert health["model"] == "bc/2"
        assert health["following"]["serving"] == "bc/2"
        assert health["following"]["in_sync"] is True

        # bc/3 fails the environment check: never served, refused once, reported.
        registry.set_alias("bc", 3, "production", actor, reason="try 3")
        _wait_for(lambda: follower.refused is not None, "the refusal of bc/3")
        time.sleep(10 * FAST_POLL)  # more polls: it is not loaded again, nor switched to
        assert _predict(client, rows)[0] == "bc/2"
        following = client.get("/health").json()["following"]
        assert following["refused"]["version"] == "bc/3"
        assert "scikit-learn" in following["refused"]["reason"]
        assert following["in_sync"] is False
        assert following["alias_version"] == 3
        refusals = [m for m in said if "failed its checks" in m]
        assert len(refusals) == 1, said
        assert refusals[0].startswith("bc@production moved to bc/3, which failed its checks")
        assert refusals[0].endswith("still serving bc/2")
        metrics = client.get("/metrics").text
        assert "parity_model_switches_total 1.0" in metrics
        assert "parity_model_switches_refused_total 1.0" in metrics
        assert "parity_model_version 2.0" in metrics
        assert 'parity_model_info{data_version="",environment_id=' in metrics
        assert 'version="2"' in metrics
        assert 'version="1"' not in metrics

        # The alias removed: keep serving what answers, say so once.
        registry.remove_alias("bc", "production", actor, reason="gone")
        _wait_for(lambda: follower.problem is not None, "the removed alias noticed")
        assert "cannot read bc@production" in follower.problem
        assert _predict(client, rows)[0] == "bc/2"
        assert client.get("/metadata").json()["following"]["problem"] == follower.problem

        # Back to a version that passes: switched to, the problem cleared.
        registry.set_alias("bc", 1, "production", actor, reason="back")
        _wait_for(lambda: follower.switches == 2, "the switch back to bc/1")
        assert follower.problem is None
        assert follower.refused is None
        assert _predict(client, rows) == ("bc/1", expected)
    assert "bc@production can be read again" in said


def test_a_version_failing_its_golden_rows_is_not_switched_to(
    three_versions: Workspace, breast_cancer: tuple[Any, Any]
) -> None:
    """bc/4's stored golden predictions are not what it predicts: refused, bc/1 answers."""
    from parity.registry.loading import read_model_record

    _, features = breast_cancer
    workspace, actor = three_versions, three_versions.actor()
    record = read_model_record(workspace.records, workspace.registry.resolve("bc/2").model_id)
    version_one = read_model_record(workspace.records, workspace.registry.resolve("bc/1").model_id)
    # Version 2's model with version 1's golden rows (same inputs, the opposite predictions).
    theirs = version_one.file(version_one.golden_predictions or "")
    assert theirs is not None
    assert record.golden_predictions == version_one.golden_predictions
    forged = dataclasses.replace(
        record,
        files=tuple(theirs if f.path == theirs.path else f for f in record.files),
    )
    model_id = workspace.records.put(forged.to_record(), 2)
    workspace.registry.register("bc", model_id, actor)
    follower, client, _ = _follower_client(workspace)
    with client:
        workspace.registry.set_alias("bc", 4, "production", actor, reason="golden differs")
        _wait_for(lambda: follower.refused is not None, "the refusal of bc/4")
        assert "golden predictions do not match" in follower.refused["reason"]
        assert follower.state.version.ref == "bc/1"
        rows = features.iloc[:2].to_dict(orient="records")
        assert _predict(client, rows)[0] == "bc/1"


def test_a_request_in_flight_finishes_on_its_version_which_is_released_after_it(
    three_versions: Workspace, breast_cancer: tuple[Any, Any]
) -> None:
    import asyncio

    from parity.api import serving
    from parity.serve.app import create_app
    from parity.serve.follow import AliasFollower
    from parity.serve.state import Readiness

    _, features = breast_cancer
    rows = features.iloc[:2].to_dict(orient="records")
    old, new = (
        serving.load(ref, readiness=Readiness(True), sample_rate=0, workspace=three_versions)
        for ref in ("bc/1", "bc/2")
    )
    closed: list[str] = []
    for state in (old, new):
        state.close = lambda ref=state.version.ref: closed.append(ref)  # type: ignore[method-assign]
    release = threading.Event()

    def make_app(state: ServingState) -> Any:
        app = create_app(state)

        async def held(scope: Any, receive: Any, send: Any) -> None:
            # A slow request: bc/1 holds requests marked "x-slow" until the test releases them.
            if scope["type"] == "http" and (b"x-slow", b"1") in scope["headers"]:
                while not release.is_set():
                    await asyncio.sleep(0.01)
            await app(scope, receive, send)

        return held

    alias = {"version": 1}
    follower = AliasFollower(
        "bc@production",
        old,
        make_app=make_app,
        target=lambda: alias["version"],
        prepare=lambda _version: new,
        poll_interval=FAST_POLL,
    )
    slow: list[Any] = []
    with TestClient(follower) as client:
        thread = threading.Thread(
            target=lambda: slow.append(client.post("/predict", json=rows, headers={"x-slow": "1"}))
        )
        thread.start()
        _wait_for(lambda: follower._current.in_flight == 1, "the slow request in flight")
        alias["version"] = 2
        _wait_for(lambda: follower.switches == 1, "the switch")
        assert _predict(client, rows)[0] == "bc/2"  # new requests: the new version
        assert closed == []  # the old version still answers its request
        release.set()
        thread.join(timeout=30)
        assert slow[0].status_code == 200
        assert slow[0].headers["x-model-version"] == "bc/1"
        _wait_for(lambda: closed == ["bc/1"], "the old version released")
    assert closed == ["bc/1", "bc/2"]  # the server's end closes the version answering


def _flaky(monkeypatch: pytest.MonkeyPatch, error: ParityError, times: int) -> list[int]:
    """serving_state raises ``error`` for its first ``times`` calls, then loads for real."""
    import parity.api._serving as composing

    real, calls = composing.serving_state, []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1])
        if len(calls) <= times:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(composing, "serving_state", flaky)
    return calls


@pytest.mark.parametrize(
    "error",
    [
        DatabaseBusy("the database at x is busy with other writers", hint="try again"),
        AccessDenied("401 to GET /api/records: token expired", hint="parity login"),
    ],
    ids=["sqlite-busy", "team-token-expired"],
)
def test_a_transient_error_while_loading_is_retried_not_refused_forever(
    three_versions: Workspace,
    breast_cancer: tuple[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    error: ParityError,
) -> None:
    _, features = breast_cancer
    rows = features.iloc[:2].to_dict(orient="records")
    follower, client, _said = _follower_client(three_versions)
    calls = _flaky(monkeypatch, error, times=1)
    with client:
        three_versions.registry.set_alias("bc", 2, "production", three_versions.actor(), reason="x")
        _wait_for(lambda: len(calls) >= 1, "the first load of bc/2")
        # bc/2 passes every check; the failure was the database or the token, gone after one.
        _wait_for(
            lambda: follower.switches == 1 or follower.refused is not None, "a verdict", timeout=20
        )
        assert follower.switches == 1, f"refused: {follower.refused}, loads: {len(calls)}"
        assert _predict(client, rows)[0] == "bc/2"
        assert follower.refused is None


def test_a_corrupt_version_is_refused_once_not_reloaded_every_poll(
    three_versions: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    follower, client, _said = _follower_client(three_versions)
    calls = _flaky(monkeypatch, CorruptObject("-", "model.pkl does not match its digest"), 10**6)
    with client:
        three_versions.registry.set_alias("bc", 2, "production", three_versions.actor(), reason="x")
        time.sleep(40 * FAST_POLL)
    assert len(calls) == 1, f"the whole model was fetched and hash-checked {len(calls)} times"
    assert follower.refused is not None
    assert "does not match its digest" in follower.refused["reason"]


def test_a_refusal_stays_reported_after_the_registry_blinked(
    three_versions: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bc/3 fails its environment check; the registry is unreachable for a moment; the alias
    still names bc/3, so /health still says bc/3 was refused."""
    follower, client, _said = _follower_client(three_versions)
    registry = three_versions.registry
    with client:
        registry.set_alias("bc", 3, "production", three_versions.actor(), reason="bad")
        _wait_for(lambda: follower.refused is not None, "the refusal of bc/3")
        real = registry.by_alias

        def away(*_args: Any) -> Any:
            raise StorageError("registry unreachable", hint="-")

        monkeypatch.setattr(registry, "by_alias", away)
        _wait_for(lambda: follower.problem is not None, "the registry problem")
        monkeypatch.setattr(registry, "by_alias", real)
        _wait_for(lambda: follower.problem is None, "the registry back")
        time.sleep(10 * FAST_POLL)
        following = client.get("/health").json()["following"]
        assert following["alias_version"] == 3
        assert following["serving"] == "bc/1"
        assert following["refused"] is not None, following


def test_serving_state_keeps_its_alias_when_loaded_by_number(three_versions: Workspace) -> None:
    from parity.api._serving import pinned, serving_state
    from parity.serve.state import Readiness

    reference, name, alias = pinned(three_versions, "bc@production")
    assert (reference, name, alias) == ("bc/1", "bc", "production")
    state: ServingState = serving_state(three_versions, reference, Readiness(True), 0, alias=alias)
    try:
        assert state.metadata()["alias"] == "production"
        assert "following" not in state.metadata()
    finally:
        state.close()
    with pytest.raises(NotFoundError, match="no alias 'staging'"):
        pinned(three_versions, "bc@staging")


def test_follow_alias_needs_an_alias(served_workspace: Workspace) -> None:
    result = run_parity("serve", "bc/1", "--follow-alias", cwd=served_workspace.root)
    assert result.returncode == 2
    assert "--follow-alias follows an alias, and 'bc/1' names none" in result.stderr
    result = run_parity(
        "serve", "bc@production", "--follow-alias", "--poll-interval", "soon",
        cwd=served_workspace.root,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot read the duration 'soon'" in result.stderr


# ------------------------------------------------- a real server under load while the alias moves

POLL = 1.0  # seconds: the server's --poll-interval
# How long after an alias move has returned the server may still answer with the version before
# it: one poll interval, then loading and checking the new version beside the old one under the
# load (~1-3 s on this 2-core machine), with a wide margin for a busy CI runner.
SWITCH_DEADLINE = POLL + 20.0
CLIENTS = 4
PAUSE = 0.01  # seconds between one client's requests: at most ~400 requests/s in all


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass(frozen=True)
class Answer:
    sent: float
    received: float
    status: int  # 0: the connection failed
    version: str | None
    predictions: tuple[int, ...]


def _client(
    port: int, body: bytes, stop: threading.Event, answers: list[Answer], lock: threading.Lock
) -> None:
    """One keep-alive client: POST /predict, record the answer, pause, until told to stop."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    while not stop.is_set():
        sent = time.monotonic()
        try:
            connection.request("POST", "/predict", body, headers)
            response = connection.getresponse()
            payload = response.read()
            received = time.monotonic()
            predictions = (
                tuple(json.loads(payload)["predictions"]) if response.status == 200 else ()
            )
            answer = Answer(
                sent, received, response.status, response.getheader("X-Model-Version"), predictions
            )
        except (OSError, http.client.HTTPException):
            answer = Answer(sent, time.monotonic(), 0, None, ())
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            answers.append(answer)
        time.sleep(PAUSE)
    connection.close()


@dataclasses.dataclass(frozen=True)
class Move:
    started: float  # before the command ran: the alias moved after this...
    done: float  # ...and before this, when the command had returned
    version: str  # what the alias names after the move


def _move(workspace: Path, *args: str, version: str) -> Move:
    started = time.monotonic()
    result = run_parity("models", *args, cwd=workspace)
    assert result.returncode == 0, result.stderr
    return Move(started, time.monotonic(), version)


def _allowed(answer: Answer, initial: str, moves: list[Move]) -> set[str]:
    """The versions an answer may name "within one switch" of the alias.

    With the alias's targets t0 (before any move), t1, t2, ... and k(t) the number of moves that
    had *started* by time t, an answer sent at s and received at r may name t_j for any
    k(s) - 1 <= j <= k(r): what the alias named when the request was sent or when its answer came
    back (or in between), or the one target before the send-time one, since the server notices
    a move only at its next poll and switches once the new version passed its checks (one
    switch behind, never two). ``_late`` bounds how long it may stay behind.
    """
    targets = [initial, *(m.version for m in moves)]
    sent = sum(m.started <= answer.sent for m in moves)
    received = sum(m.started <= answer.received for m in moves)
    return set(targets[max(0, sent - 1) : received + 1])


def _late(answer: Answer, initial: str, moves: list[Move]) -> bool:
    """An answer from an older version, sent more than SWITCH_DEADLINE after the last move had
    returned: the server failed to switch in time (or at all)."""
    done = [m for m in moves if m.done + SWITCH_DEADLINE < answer.sent]
    if not done:
        return False
    settled = [m for m in moves if m.started <= answer.sent]
    return settled[-1] is done[-1] and answer.version != done[-1].version


@pytest.mark.slow
def test_follow_alias_under_load_switches_and_rolls_back_without_a_failed_request(
    three_versions: Workspace, breast_cancer: tuple[Any, Any], tmp_path: Path
) -> None:
    model, features = breast_cancer
    rows = features.iloc[:3]  # within the first ROWS
    first = tuple(model.predict(rows).tolist())
    by_version = {"bc/1": first, "bc/2": tuple(1 - p for p in first)}
    body = json.dumps(rows.to_dict(orient="records")).encode()
    root = three_versions.root
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARITY_")}
    out, err = (tmp_path / "stdout.txt").open("w"), (tmp_path / "stderr.txt").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "parity", "serve", "bc@production", "--port", str(port),
         "--follow-alias", "--poll-interval", f"{POLL:.0f}s", "--record-deployment", "edge"],
        cwd=root, env=env, stdout=out, stderr=err, text=True,
    )  # fmt: skip
    answers: list[Answer] = []
    lock, stop = threading.Lock(), threading.Event()
    clients = [
        threading.Thread(target=_client, args=(port, body, stop, answers, lock), daemon=True)
        for _ in range(CLIENTS)
    ]

    def health() -> dict[str, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/health")
            return dict(json.loads(connection.getresponse().read()))
        finally:
            connection.close()

    def served_since(moment: float, version: str, count: int = 20) -> bool:
        with lock:
            return sum(a.sent > moment and a.version == version for a in answers) >= count

    moves: list[Move] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "stderr.txt").read_text()
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            try:
                if health()["status"] == "ok":
                    break
            except OSError:
                time.sleep(0.1)
        for thread in clients:
            thread.start()
        time.sleep(1.5)
        moves.append(
            _move(root, "alias", "bc", "2", "production", "--reason", "v2", version="bc/2")
        )
        _wait_for(lambda: served_since(moves[-1].done, "bc/2"), "bc/2 to answer", SWITCH_DEADLINE)
        time.sleep(1.0)
        moves.append(
            _move(root, "rollback", "bc@production", "--reason", "v2 is worse", version="bc/1")
        )
        _wait_for(lambda: served_since(moves[-1].done, "bc/1"), "bc/1 to answer", SWITCH_DEADLINE)
        # bc/3 fails its environment check: the server stays on bc/1 and says why.
        refused = _move(root, "alias", "bc", "3", "production", "--reason", "v3", version="bc/3")
        _wait_for(lambda: health()["following"]["refused"] is not None, "the refusal of bc/3")
        time.sleep(2 * POLL)
        following = health()["following"]
        metrics_connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        metrics_connection.request("GET", "/metrics")
        metrics = metrics_connection.getresponse().read().decode()
        metrics_connection.close()
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=30)
        server.terminate()
        server.wait(timeout=30)
        out.close()
        err.close()
    stdout, stderr = (tmp_path / "stdout.txt").read_text(), (tmp_path / "stderr.txt").read_text()

    assert len(answers) > 300, len(answers)
    failed = [a for a in answers if a.status != 200]
    assert not failed, f"{len(failed)} of {len(answers)} requests failed: {failed[:5]}"
    span = answers[-1].received - answers[0].sent
    rate = len(answers) / span
    assert rate <= CLIENTS / PAUSE, rate  # the load stayed bounded
    lags = [
        min(a.received for a in answers if a.sent > m.started and a.version == m.version)
        - m.started
        for m in moves
    ]
    print(f"{len(answers)} requests in {span:.1f} s ({rate:.0f}/s), all 200; the new version")
    print("answered", ", ".join(f"{lag:.2f} s" for lag in lags), "after the alias command began")
    for answer in answers:
        assert answer.predictions == by_version[answer.version or ""], answer  # header = model
        assert answer.version in _allowed(answer, "bc/1", moves), (answer, moves)
        assert not _late(answer, "bc/1", moves), (answer, moves)
    after_refusal = [a for a in answers if a.sent > refused.started]
    assert after_refusal
    assert {a.version for a in after_refusal} == {"bc/1"}
    assert {a.version for a in answers} == {"bc/1", "bc/2"}

    assert following["serving"] == "bc/1"
    assert following["switches"] == 2
    assert following["refused"]["version"] == "bc/3"
    assert "parity_model_switches_total 2.0" in metrics
    assert "parity_model_switches_refused_total 1.0" in metrics
    assert "parity_model_version 1.0" in metrics
    assert "following bc@production" in stdout
    from parity.api import deploy

    recorded = deploy.history("bc", where="edge", workspace=three_versions)
    assert [d.ref for d in recorded] == ["bc/1", "bc/2", "bc/1"]  # the record follows the switch
    assert "bc@production moved: now serving bc/2 (was bc/1; switch 1)" in stdout
    assert "bc@production moved: now serving bc/1 (was bc/2; switch 2)" in stdout
    assert re.search(r"warning: bc@production moved to bc/3, which failed its checks: .*"
                     r"scikit-learn.*; still serving bc/1", stderr), stderr  # fmt: skip


def test_the_version_header_names_the_version_without_following(
    served_workspace: Workspace,
) -> None:
    from parity.api import serving
    from parity.serve.state import Readiness

    state = serving.load("bc@production", readiness=Readiness(True), workspace=served_workspace)
    try:
        client = TestClient(serving.app(state))
        assert client.get("/health").headers["x-model-version"] == "bc/1"
        assert "following" not in client.get("/health").json()
    finally:
        state.close()


@pytest.mark.slow
def test_each_worker_follows_the_alias(
    three_versions: Workspace, breast_cancer: tuple[Any, Any], tmp_path: Path
) -> None:
    """With --workers 2 every worker process follows the alias itself: after a move, answers on
    fresh connections (spread over both workers) all come from the new version, none failed."""
    _, features = breast_cancer
    body = json.dumps(features.iloc[:2].to_dict(orient="records")).encode()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARITY_")}
    err = (tmp_path / "stderr.txt").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "parity", "serve", "bc@production", "--port", str(port),
         "--workers", "2", "--follow-alias", "--poll-interval", "1s"],
        cwd=three_versions.root, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True,
    )  # fmt: skip

    def ask() -> tuple[int, str | None]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            return response.status, response.getheader("X-Model-Version")
        finally:
            connection.close()

    seen: list[tuple[int, str | None]] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (tmp_path / "stderr.txt").read_text()
            assert time.monotonic() < deadline, "the server did not start within 90 s"
            try:
                if ask() == (200, "bc/1"):
                    break
            except OSError:
                time.sleep(0.2)
        moved = run_parity("models", "alias", "bc", "2", "production", "--reason", "v2",
                           cwd=three_versions.root)  # fmt: skip
        assert moved.returncode == 0, moved.stderr
        deadline = time.monotonic() + SWITCH_DEADLINE
        while len(seen) < 20 or any(version != "bc/2" for _, version in seen[-20:]):
            assert time.monotonic() < deadline, seen[-20:]
            seen.append(ask())
            time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(timeout=30)
        err.close()
    assert {status for status, _ in seen} == {200}
    assert (tmp_path / "stderr.txt").read_text().count("now serving bc/2 (was bc/1") == 2
