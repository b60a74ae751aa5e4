"""`parity events` end to end: hooks added, listed and removed; `deliver` retries what a
receiver refused; `events list --failed` shows it; `monitor watch` refuses bad usage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parity.api import events
from parity.api._watch import split_command
from parity.cli.events_commands import events_group
from parity.core.errors import UsageError
from parity.workspace import open_workspace
from tests.conftest import run_parity
from tests.events.receiver import webhook_receiver

SECRET = "cli-secret-0123456789"


def test_hooks_deliver_and_the_failed_list_from_the_command_line(workspace_dir: Path) -> None:
    assert sorted(events_group.commands) == ["deliver", "hooks", "list"]
    env = {"HOOK_SECRET": SECRET}
    with webhook_receiver(SECRET, fail_first=100) as receiver:
        added = run_parity(
            "events", "hooks", "add", receiver.url, "--events", "monitor.drift_alert",
            "--secret-env", "HOOK_SECRET", "--json", cwd=workspace_dir, env=env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        hook = json.loads(added.stdout)
        assert hook["kinds"] == ["monitor.drift_alert"]
        assert SECRET not in added.stdout
        listed = run_parity("events", "hooks", "list", cwd=workspace_dir, env=env)
        assert hook["id"] in listed.stdout
        assert "$HOOK_SECRET" in listed.stdout

        with open_workspace(workspace_dir, environ={}) as workspace:
            event = workspace.outbox.emit("monitor.drift_alert", {"ref": "bc/1"}, "tester")
        first = run_parity("events", "deliver", "--wait", "0", cwd=workspace_dir, env=env)
        assert first.returncode == 0, first.stderr
        assert "0 delivered, 1 failed attempts" in first.stdout
        assert "next retry due at" in first.stdout
        failed = run_parity("events", "list", "--failed", "--json", cwd=workspace_dir, env=env)
        (shown,) = json.loads(failed.stdout)
        assert shown["id"] == event.id
        assert [(d["attempt"], d["status"]) for d in shown["deliveries"]] == [(1, 500)]

        receiver.fail_first = 0
        again = run_parity("events", "deliver", "--wait", "10", cwd=workspace_dir, env=env)
        assert "1 delivered, 0 failed attempts" in again.stdout
        assert [p["id"] for p in receiver.accepted()] == [event.id]
        table = run_parity("events", "list", cwd=workspace_dir, env=env)
        assert f"{hook['id']}#2 ok" in table.stdout
        none_failed = run_parity("events", "list", "--failed", cwd=workspace_dir, env=env)
        assert "no events with failed deliveries" in none_failed.stdout

    removed = run_parity("events", "hooks", "remove", hook["id"], cwd=workspace_dir)
    assert removed.returncode == 0, removed.stderr
    gone = run_parity("events", "hooks", "remove", hook["id"], cwd=workspace_dir)
    assert gone.returncode == 3
    assert f"no webhook '{hook['id']}'" in gone.stderr
    with open_workspace(workspace_dir, environ={}) as workspace:
        assert events.hooks(workspace=workspace) == []


def test_watch_refuses_an_empty_command_and_a_bad_interval(workspace_dir: Path) -> None:
    assert split_command("make 'retrain now'") == ["make", "retrain now"]
    with pytest.raises(UsageError, match="--on-alert is empty"):
        split_command("  ")
    with pytest.raises(UsageError, match="check its quotes"):
        split_command("make 'retrain")
    bad = run_parity("monitor", "watch", "bc@production", "--every", "soon", cwd=workspace_dir)
    assert bad.returncode == 2
    assert "cannot read the duration 'soon'" in bad.stderr
