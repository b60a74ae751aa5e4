"""Events reach a real webhook receiver once each, signed, retried after a 500, with every
attempt in the delivery log; the receiver refuses a tampered, wrongly signed or old payload.
On SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import sqlalchemy as sa

from parity.api import deploy, events, models, monitor
from parity.core.errors import UsageError
from parity.events.delivery import deliver_round
from parity.events.outbox import EventOutbox
from parity.store.meta.event_tables import webhooks
from parity.workspace import Workspace, init_workspace, now_ms
from tests.events.receiver import webhook_receiver

SECRET = "test-secret-0123456789abcdef"
IMAGE = "registry.example/bc@sha256:" + "ab" * 32


@pytest.fixture
def workspace(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    opened, _ = init_workspace(tmp_path / "ws", environ={"PARITY_METADATA_URL": database_url})
    yield opened
    opened.close()


def _log_inputs(workspace: Workspace, rows: Any, version: int = 1) -> None:
    workspace.monitoring.append_predictions(
        [
            {
                "time_ms": now_ms(),
                "model": "bc",
                "version": version,
                "environment_id": None,
                "data_version": None,
                "inputs": [float(v) for v in row],
                "prediction": 0,
            }
            for row in rows.itertuples(index=False)
        ]
    )


@pytest.mark.slow
def test_every_event_reaches_the_receiver_once_and_a_500_is_retried(
    workspace: Workspace, breast_cancer: tuple[Any, Any], tmp_path: Path
) -> None:
    model, features = breast_cancer
    training = tmp_path / "train.csv"
    features.to_csv(training, index=False)
    with webhook_receiver(SECRET, fail_first=1) as receiver:
        hook = events.add_hook(receiver.url, "*", secret_env="HOOK_SECRET", workspace=workspace)
        model_id, _ = models.save(model, input_example=features, workspace=workspace)

        started = time.monotonic()
        models.register(model_id[:16], "bc", workspace=workspace)  # 500, then the retry
        assert time.monotonic() - started < 10  # the command is held only briefly
        models.alias("bc", 1, alias="production", reason="first", workspace=workspace)
        models.register(model_id[:16], "bc", workspace=workspace)
        models.alias("bc", 2, alias="production", reason="second", workspace=workspace)
        models.rollback("bc", "production", reason="worse", workspace=workspace)
        deploy.record("bc@production", "prod-eu", image=IMAGE, workspace=workspace)
        rng = np.random.default_rng(5)
        served = features.iloc[rng.integers(0, len(features), 1_000)].reset_index(drop=True)
        served["mean radius"] += 0.5 * features["mean radius"].std()
        _log_inputs(workspace, served)
        report = monitor.drift("bc/1", reference=str(training), workspace=workspace)
        assert report.drifted == ("mean radius",)

        logged = events.list(workspace=workspace)
        kinds = Counter(item.event.kind for item in logged)
        assert kinds == {
            "model.version_registered": 2,
            "model.alias_moved": 3,
            "deployment.recorded": 1,
            "monitor.drift_alert": 1,
        }
        accepted = receiver.accepted()
        # Every event arrived, and each exactly once (deduped by id there is nothing to drop).
        assert Counter(p["id"] for p in accepted) == {item.event.id: 1 for item in logged}
        assert receiver.statuses().count(500) == 1
        assert receiver.statuses().count(401) == 0

    by_id = {item.event.id: item for item in logged}
    first = by_id[accepted[0]["id"]]
    assert first.event.kind == "model.version_registered"
    assert [(a.attempt, a.ok, a.status) for a in first.attempts] == [
        (1, False, 500),
        (2, True, 200),
    ]
    assert all(a.hook_id == hook.id for item in logged for a in item.attempts)
    assert events.list(failed=True, workspace=workspace) == []

    payloads = {p["kind"]: p for p in accepted}
    rollback = [p for p in accepted if p["kind"] == "model.alias_moved" and p["data"]["rollback"]]
    assert [(p["data"]["from_version"], p["data"]["version"]) for p in rollback] == [(2, 1)]
    assert payloads["deployment.recorded"]["data"]["where"] == "prod-eu"
    assert payloads["monitor.drift_alert"]["data"]["drifted"] == ["mean radius"]
    assert set(payloads["model.alias_moved"]) == {"id", "kind", "time", "data"}


def test_the_receiver_refuses_a_tampered_a_wrongly_signed_and_an_old_payload(
    workspace: Workspace,
) -> None:
    with webhook_receiver(SECRET) as receiver:
        events.add_hook(receiver.url, "monitor.drift_alert", secret_env="HOOK_SECRET",
                        workspace=workspace)  # fmt: skip
        event = events.emit("monitor.drift_alert", {"model": "bc/1"}, workspace=workspace)
        (good,) = receiver.seen
        assert good.status == 200
        assert good.payload["id"] == event.id
        assert good.headers["Parity-Event-Id"] == event.id

        def post(body: bytes, timestamp: int, signature: str) -> int:
            headers = {"Parity-Timestamp": str(timestamp), "Parity-Signature": signature}
            return httpx.post(receiver.url, content=body, headers=headers).status_code

        stamp = int(good.headers["Parity-Timestamp"])
        signature = good.headers["Parity-Signature"]
        assert post(good.body, stamp, signature) == 200  # the genuine one, replayed at once
        tampered = good.body.replace(b"bc/1", b"bc/2")
        assert post(tampered, stamp, signature) == 401
        assert post(good.body, stamp, events.sign("another-secret", stamp, good.body)) == 401
        old = int(time.time()) - 330  # outside the 5-minute window
        assert post(good.body, old, events.sign(SECRET, old, good.body)) == 401
        recent = int(time.time()) - 240  # inside it
        assert post(good.body, recent, events.sign(SECRET, recent, good.body)) == 200
        assert events.verify_signature(SECRET, old, good.body, events.sign(SECRET, old, good.body),
                                       now=old + 299)  # fmt: skip


def test_an_unreachable_hook_is_retried_with_backoff_and_given_up_after_the_bound(
    workspace: Workspace,
) -> None:
    outbox = workspace.outbox
    events.add_hook("http://127.0.0.1:9/nothing", "*", secret_env="HOOK_SECRET",
                    workspace=workspace)  # fmt: skip
    event = outbox.emit("monitor.drift_alert", {"model": "bc/1"}, "tester")
    clock = [now_ms()]
    stepped = EventOutbox(outbox.meta, lambda: clock[0], {"HOOK_SECRET": SECRET})
    waits = []
    for _ in range(12):
        done = deliver_round(stepped, timeout_s=1.0, max_attempts=4)
        if done.next_due_ms is None:
            break
        waits.append(done.next_due_ms - clock[0])
        clock[0] = done.next_due_ms
    (listed,) = events.list(failed=True, workspace=workspace)
    assert listed.event.id == event.id
    assert [a.attempt for a in listed.attempts] == [1, 2, 3, 4]  # bounded
    assert all(not a.ok and a.status is None and a.error for a in listed.attempts)
    assert waits == [2_000, 4_000, 8_000]  # doubling backoff
    assert deliver_round(stepped).delivered == []  # settled: no more tries


def test_a_hook_needs_its_secret_variable_and_only_known_kinds(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match="NOT_SET is not set here"):
        events.add_hook("http://127.0.0.1:9/", "*", secret_env="NOT_SET", workspace=workspace)
    with pytest.raises(UsageError, match=r"unknown event kind model\.nope"):
        events.add_hook("http://127.0.0.1:9/", "model.nope", secret_env="HOOK_SECRET",
                        workspace=workspace)  # fmt: skip
    hook = events.add_hook("http://127.0.0.1:9/", "model.alias_moved,deployment.recorded",
                           secret_env="HOOK_SECRET", workspace=workspace)  # fmt: skip
    assert hook.kinds == ("model.alias_moved", "deployment.recorded")
    assert [h.id for h in events.hooks(workspace=workspace)] == [hook.id]
    with workspace.meta.read() as connection:  # only the variable's name is kept
        rows = connection.execute(sa.select(webhooks)).all()
    assert [row.secret_env for row in rows] == ["HOOK_SECRET"]
    assert SECRET not in repr(rows)
    monkeypatch.delenv("HOOK_SECRET")
    unsigned = EventOutbox(workspace.meta, now_ms, {})
    unsigned.emit("model.alias_moved", {"model": "bc"}, "tester")
    done = deliver_round(unsigned)
    assert [a.error for a in done.failed] == [
        "not sent: HOOK_SECRET is not set where events are delivered"
    ]
    with pytest.raises(UsageError, match="unknown event kind 'model'"):
        events.list("model", workspace=workspace)
    assert events.remove_hook(hook.id, workspace=workspace).id == hook.id
    assert events.hooks(workspace=workspace) == []
