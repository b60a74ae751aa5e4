"""One tick of ``parity monitor watch``: run the model's checks, emit an event for each alert,
run the on-alert command, deliver the events.

The checks are handed in by ``parity.api.monitor.watch``: drift, and performance against the
training run's figures. The on-alert command is split with ``shlex`` and run without a shell;
it gets the alerts in its environment:
``PARITY_ALERT_KINDS`` (comma-separated), ``PARITY_ALERT_MODEL`` (NAME/VERSION),
``PARITY_ALERT_SUMMARY`` (one line per alert), ``PARITY_ALERT_EVENT_IDS`` and
``PARITY_ALERT_JSON`` (the alerts as a JSON list).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Callable, Mapping

from parity.api._events import deliver_staged, report_alert
from parity.core.errors import UsageError
from parity.core.model import ModelVersion
from parity.monitor.watch import WatchAlert, WatchTick
from parity.workspace import Workspace, now_ms

# How long an on-alert command may run before it is stopped (``--on-alert-timeout``).
ON_ALERT_TIMEOUT_S = 600.0

# A check of one model version: (a short outcome for the tick's log, an alert or None).
Check = Callable[[Workspace, ModelVersion, int | None, int], tuple[str, WatchAlert | None]]


def watch_tick(
    workspace: Workspace,
    model_reference: str,
    on_alert: list[str] | None,
    since_ms: int | None,
    min_rows: int,
    checks: Mapping[str, Check],
    on_alert_timeout_s: float = ON_ALERT_TIMEOUT_S,
) -> WatchTick:
    """Run every check once for the version ``model_reference`` names now."""
    version = workspace.registry.resolve(model_reference)
    outcomes: dict[str, str] = {}
    alerts: list[WatchAlert] = []
    for name, check in checks.items():
        outcome, alert = check(workspace, version, since_ms, min_rows)
        outcomes[name] = outcome
        if alert is not None:
            event_id = report_alert(workspace, alert.kind, alert.data)
            alerts.append(WatchAlert(alert.kind, alert.summary, event_id, alert.data))
    exit_code, error = None, None
    if alerts and on_alert:
        exit_code, error = _run_command(on_alert, version, alerts, on_alert_timeout_s)
    # The alerts' events, and any left undelivered before, go out now.
    deliver_staged(workspace, pending_too=True)
    return WatchTick(now_ms(), outcomes, tuple(alerts), exit_code, error)


def split_command(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(
            f"cannot read --on-alert {command!r}: {exc}", hint="check its quotes"
        ) from exc
    if not argv:
        raise UsageError(
            "--on-alert is empty", hint='give a command, e.g. --on-alert "make retrain"'
        )
    return argv


def _run_command(
    argv: list[str], version: ModelVersion, alerts: list[WatchAlert], timeout_s: float
) -> tuple[int | None, str | None]:
    environ = {
        **os.environ,
        "PARITY_ALERT_KINDS": ",".join(a.kind for a in alerts),
        "PARITY_ALERT_MODEL": version.ref,
        "PARITY_ALERT_SUMMARY": "\n".join(a.summary for a in alerts),
        "PARITY_ALERT_EVENT_IDS": ",".join(a.event_id or "" for a in alerts),
        "PARITY_ALERT_JSON": json.dumps([a.to_dict() for a in alerts], sort_keys=True),
    }
    try:
        done = subprocess.run(argv, env=environ, check=False, timeout=timeout_s)
    except subprocess.TimeoutExpired:  # the command was killed: the watch goes on
        return None, (
            f"the on-alert command {argv[0]} ran longer than {timeout_s:g} s and was stopped"
            " (--on-alert-timeout gives it longer)"
        )
    except OSError as exc:
        return None, f"could not run {argv[0]}: {exc.strerror or exc}"
    return done.returncode, None
