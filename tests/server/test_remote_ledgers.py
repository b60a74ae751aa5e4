"""The deployment, export-filing and reproduction ledgers over HTTP, on a SQLite-backed server:
what a client records comes back as the server keeps it, stamped with the token's user, and
a retried record changes nothing. (The PostgreSQL + S3 team tests drive the same through the
CLI; these run everywhere.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from parity.api import models
from parity.core.errors import NotFoundError, UsageError
from parity.deploy.remote import RemoteDeploymentLog, RemoteExportFiling
from parity.repro.remote import RemoteReproductions
from parity.repro.store import Reproduction
from parity.store.http.client import ServerClient
from parity.workspace import now_ms, open_workspace
from tests.server.live import TeamServer, team_server


class Halves:
    """Module level, so it pickles."""

    def predict(self, rows: Any) -> Any:
        return np.asarray(rows)[:, 0] / 2


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TeamServer, Path, list[str]]]:
    """A server whose store holds churn/1 and two runs (an original and its re-run)."""
    folder = tmp_path / "served"
    with team_server(folder) as server:
        with open_workspace(folder, environ={"PARITY_WORKSPACE": str(folder)}) as workspace:
            model_id, _ = models.save(Halves(), workspace=workspace)
            workspace.registry.register("churn", model_id, workspace.actor())
            runs = [
                workspace.runs.create(experiment="e", name=None, user="u", host=None, command=[])
                for _ in range(2)
            ]
        yield server, folder, runs


def test_a_deployment_is_kept_once_as_the_token_s_user(
    served: tuple[TeamServer, Path, list[str]],
) -> None:
    server, folder, _ = served
    with ServerClient(server.url, server.writer) as client:
        log = RemoteDeploymentLog(client)
        with open_workspace(folder, environ={}) as workspace:
            version = workspace.registry.resolve("churn/1")
        image = "registry.example/churn@sha256:" + "ab" * 32
        kept, added = log.record("prod-eu", version, None, image, "whoever", "record")
        again, added_again = log.record("prod-eu", version, None, image, "whoever", "record")
        assert (added, added_again) == (True, False)
        assert kept.recorded_by == again.recorded_by == "admin"  # the token's user, not "whoever"
        [now] = log.current("churn")
        assert (now.place, now.name, now.version, now.image) == ("prod-eu", "churn", 1, image)
        assert log.history(place="prod-eu") == [now]
        assert RemoteExportFiling(client).of_version("churn", 1) == []


def test_a_reproduction_is_kept_once_and_a_different_verdict_is_refused(
    served: tuple[TeamServer, Path, list[str]],
) -> None:
    server, folder, (original, rerun) = served
    with ServerClient(server.url, server.writer) as client:
        ledger = RemoteReproductions(client)
        missing = Reproduction(rerun, original, "identical", "0" * 64, 1000)
        with pytest.raises(NotFoundError, match="no report"):
            ledger.record(missing)
        with open_workspace(folder, environ={}) as workspace:
            report = workspace.objects.put_bytes(
                json.dumps({"original": original, "verdict": "identical", "runs": [rerun]}).encode()
            )
        before = now_ms()
        # A date far ahead would sort last for ever: the server's clock dates it instead.
        kept = Reproduction(rerun, original, "identical", report, 253_402_300_799_999)
        ledger.record(kept)
        ledger.record(kept)  # a retry: no change
        [stored] = ledger.of([original])
        assert (stored.run_id, stored.verdict, stored.report_digest) == (rerun, "identical", report)
        assert before <= stored.created_ms <= now_ms()
        with pytest.raises(UsageError, match="is not the report of this reproduction"):
            ledger.record(Reproduction(rerun, original, "different", report, 1000))


def test_a_forged_reproduction_is_refused(served: tuple[TeamServer, Path, list[str]]) -> None:
    """An unrelated run, or a report that says something else, cannot stand as a repro."""
    server, folder, (original, _) = served
    with open_workspace(folder, environ={}) as workspace:
        other = workspace.runs.create(
            experiment="e", name=None, user="u", host=None, command=["python", "other.py"]
        )
        claims = {"original": original, "verdict": "identical", "runs": [other]}
        report = workspace.objects.put_bytes(json.dumps(claims).encode())
        nonsense = workspace.objects.put_bytes(b"not a report")
    with ServerClient(server.url, server.writer) as client:
        ledger = RemoteReproductions(client)
        with pytest.raises(UsageError, match="is not a re-run of"):
            ledger.record(Reproduction(other, original, "identical", report, 1))
        with pytest.raises(UsageError, match="is not the report of this reproduction"):
            ledger.record(Reproduction(original, original, "identical", nonsense, 1))
        assert ledger.of([original]) == []
