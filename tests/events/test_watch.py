"""`parity monitor watch --once`: drifted inputs run the on-alert command (no shell) with the
alert in its environment and emit the event; clean inputs run nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from parity.api import events
from parity.monitor.watch import WatchTick, run_schedule
from parity.workspace import Workspace, now_ms
from tests.conftest import run_parity

# Writes the alert variables it was given to the file named by its one argument.
MARKER_SCRIPT = (
    "import json, os, sys; "
    "json.dump({k: v for k, v in os.environ.items() if k.startswith('PARITY_ALERT_')}, "
    "open(sys.argv[1], 'w'))"
)


def _log_inputs(workspace: Workspace, rows: Any) -> None:
    workspace.monitoring.append_predictions(
        [
            {
                "time_ms": now_ms(),
                "model": "bc",
                "version": 1,
                "environment_id": None,
                "data_version": None,
                "inputs": [float(v) for v in row],
                "prediction": 0,
            }
            for row in rows.itertuples(index=False)
        ]
    )


def _watch_once(workspace: Workspace, training: Path, marker: Path) -> Any:
    on_alert = f'{sys.executable} -c "{MARKER_SCRIPT}" "{marker}"'
    return run_parity(
        "monitor", "watch", "bc@production", "--once", "--reference", str(training),
        "--on-alert", on_alert, cwd=workspace.root,
    )  # fmt: skip


@pytest.mark.slow
def test_watch_once_runs_the_command_on_drift_and_not_on_clean_inputs(
    served_workspace: Workspace, breast_cancer: tuple[Any, Any], tmp_path: Path
) -> None:
    _, features = breast_cancer
    training = tmp_path / "train.csv"
    features.to_csv(training, index=False)
    rng = np.random.default_rng(7)
    _log_inputs(served_workspace, features.iloc[rng.integers(0, len(features), 1_000)])

    clean_marker = tmp_path / "clean.json"
    clean = _watch_once(served_workspace, training, clean_marker)
    assert clean.returncode == 0, clean.stderr
    assert "drift: no drift over 1000 rows" in clean.stdout
    # bc/1 was registered without a training run: no figures to judge served labels against.
    assert "performance: not run: bc/1 has no training run" in clean.stdout
    assert not clean_marker.exists()
    assert events.list("monitor.drift_alert", workspace=served_workspace) == []

    drifted = features.iloc[rng.integers(0, len(features), 1_000)].reset_index(drop=True)
    drifted["mean radius"] += features["mean radius"].std()
    _log_inputs(served_workspace, drifted)
    marker = tmp_path / "alert.json"
    alerted = _watch_once(served_workspace, training, marker)
    assert alerted.returncode == 1, alerted.stderr
    assert "ALERT monitor.drift_alert" in alerted.stdout
    assert "on-alert command exited 0" in alerted.stdout
    given = json.loads(marker.read_text())
    (event,) = events.list("monitor.drift_alert", workspace=served_workspace)
    assert given["PARITY_ALERT_KINDS"] == "monitor.drift_alert"
    assert given["PARITY_ALERT_MODEL"] == "bc/1"
    assert given["PARITY_ALERT_EVENT_IDS"] == event.event.id
    assert "mean radius" in given["PARITY_ALERT_SUMMARY"]
    assert event.event.data["drifted"] == ["mean radius"]


def test_the_schedule_ticks_every_interval_and_stops_on_ctrl_c() -> None:
    now = [0.0]
    slept: list[float] = []
    ticks = 0

    def tick() -> WatchTick:
        nonlocal ticks
        ticks += 1
        now[0] += 2.0  # each tick takes two seconds
        if ticks == 3:
            raise KeyboardInterrupt
        return WatchTick(int(now[0] * 1000), {"drift": "ok"})

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with pytest.raises(KeyboardInterrupt):
        run_schedule(tick, 600.0, sleep=sleep, monotonic=lambda: now[0])
    assert slept == [598.0, 598.0]
    assert len(run_schedule(tick, 600.0, once=True, sleep=sleep, monotonic=lambda: now[0])) == 1


def test_an_on_alert_command_that_runs_too_long_is_stopped_and_the_tick_says_so(
    served_workspace: Workspace,
) -> None:
    import time

    from parity.api._watch import watch_tick
    from parity.monitor.watch import WatchAlert

    def alerting(*_args: Any) -> tuple[str, WatchAlert | None]:
        return "drifted", WatchAlert("monitor.drift_alert", "input drift in x", data={"x": 1})

    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    started = time.monotonic()
    tick = watch_tick(served_workspace, "bc@production", sleeper, None, 1, {"drift": alerting}, 1.0)
    assert time.monotonic() - started < 20
    assert tick.command_exit is None
    assert tick.command_error is not None
    assert "ran longer than 1 s and was stopped" in tick.command_error
