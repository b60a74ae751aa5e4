"""Events in team mode: the server stages and delivers the events of the changes it makes (the
client sends nothing twice), a client reports only alerts, hooks are for admins, and
``parity.api.events`` works through the server."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from parity.api import events, models
from parity.core.errors import UsageError
from parity.store.http.client import ServerClient
from parity.workspace import Workspace, init_workspace, open_workspace
from tests.events.receiver import Receiver, webhook_receiver
from tests.server.live import TeamServer, team_server

SECRET = "server-secret-0123456789"


def _client(folder: Path, server: TeamServer, token: str) -> Workspace:
    environ = {"PARITY_SERVER_URL": server.url, "PARITY_TOKEN": token}
    workspace, _ = init_workspace(folder, environ=environ)
    return workspace


def _wait_for(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        accepted = receiver.accepted()
        if len(accepted) >= count:
            time.sleep(0.5)  # anything more (a duplicate) would arrive now
            return receiver.accepted()
        time.sleep(0.05)
    raise AssertionError(f"the receiver got {receiver.statuses()}, not {count} deliveries")


def test_the_server_delivers_what_it_changes_and_clients_report_only_alerts(
    tmp_path: Path, breast_cancer: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)  # the server's environment: it signs
    model, features = breast_cancer
    with (
        webhook_receiver(SECRET, fail_first=1) as receiver,
        team_server(tmp_path / "srv") as server,
    ):
        admin = _client(tmp_path / "admin", server, server.admin)
        writer = _client(tmp_path / "writer", server, server.writer)
        reader = _client(tmp_path / "reader", server, server.reader)
        # A hook URL may carry a credential (a chat or CI trigger token): readers never see it.
        secret_url = receiver.url + "?token=TOPSECRET"
        hook = events.add_hook(secret_url, "*", secret_env="HOOK_SECRET", workspace=admin)
        assert [h.id for h in events.hooks(workspace=admin)] == [hook.id]
        with pytest.raises(UsageError, match="needs the admin role"):
            events.hooks(workspace=writer)
        with pytest.raises(UsageError, match="NOT_ON_SERVER is not set here"):
            events.add_hook(receiver.url, "*", secret_env="NOT_ON_SERVER", workspace=admin)

        served = open_workspace(tmp_path / "srv", environ={})
        model_id, _ = models.save(model, input_example=features.iloc[:50], workspace=served)
        served.close()
        with ServerClient(server.url, server.writer) as client:
            client.post("/models/bc/versions", {"model_id": model_id})  # 500, then the retry
        models.alias("bc", 1, alias="production", reason="release", workspace=writer)
        report = events.emit("monitor.drift_alert", {"model": "bc/1"}, workspace=writer)
        assert report.actor == "admin"  # the token's user, as the server saw it
        with pytest.raises(UsageError, match=r"may not report 'model\.alias_moved' events"):
            events.emit("model.alias_moved", {"model": "bc"}, workspace=writer)
        with pytest.raises(UsageError, match="delivers its events itself"):
            events.deliver(workspace=writer)

        accepted = _wait_for(receiver, 3)
        listed = events.list(workspace=reader)
        assert Counter(p["id"] for p in accepted) == {item.event.id: 1 for item in listed}
        assert sorted(item.event.kind for item in listed) == [
            "model.alias_moved",
            "model.version_registered",
            "monitor.drift_alert",
        ]
        assert receiver.statuses().count(500) == 1
        retried = [item for item in listed if len(item.attempts) == 2]
        assert [[(a.ok, a.status) for a in item.attempts] for item in retried] == [
            [(False, 500), (True, 200)]
        ]
        assert events.list(failed=True, workspace=reader) == []
        origin = receiver.url.removesuffix("/hook")
        assert {a.url for item in listed for a in item.attempts} == {origin}
        seen_by_admin = events.list(workspace=admin)
        assert {a.url for item in seen_by_admin for a in item.attempts} == {secret_url}
        assert events.remove_hook(hook.id, workspace=admin).url == secret_url
        for workspace in (admin, writer, reader):
            workspace.close()
