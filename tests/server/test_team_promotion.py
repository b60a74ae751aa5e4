"""A promotion policy on a team server (PostgreSQL + S3): the server's own parity.toml decides,
only an admin or a model's maintainer (an admin grant on it) may approve, and the audit trail
names each token's user, through the real CLI in team mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parity.accounts.store import Accounts
from parity.api import gate, models
from parity.core.errors import AccessDenied
from parity.core.roles import Role, Scope
from parity.store.http.client import ServerClient
from parity.workspace import now_ms
from tests.server._team import Team, team

pytestmark = pytest.mark.postgres

POLICY = '[promote.production]\ngates = ["ci"]\napprovals = 2\n'


@pytest.fixture
def members(tmp_path: Path, postgres_url: str, s3_bucket: str, s3_endpoint: str) -> Iterator[Team]:
    with team(tmp_path, postgres_url, s3_bucket, s3_endpoint) as made:
        with made.served_workspace() as served:
            accounts = Accounts(served.meta, now_ms)
            # mo: a writer who maintains churn (an admin grant on that one model).
            accounts.create_user("mo", admin=False)
            accounts.grant("mo", Scope.MODEL, "churn", Role.ADMIN)
            made.tokens["mo"] = accounts.create_token("mo", Role.WRITER)[0]
        (made.served / "parity.toml").write_text(POLICY, encoding="utf-8")
        yield made


def test_only_maintainers_approve_and_the_server_s_policy_holds(
    members: Team, breast_cancer: tuple[Any, Any]
) -> None:
    model, features = breast_cancer
    with members.served_workspace() as served:
        model_id, _ = models.save(model, input_example=features.iloc[:20], workspace=served)
    with ServerClient(members.server.url, members.tokens["alice"]) as alice:
        alice.post("/models/churn/versions", {"model_id": model_id})

    refused = members.parity("models", "alias", "churn/1", "production", "-r", "ship")
    assert refused.returncode == 4
    assert "churn/1 needs 2 more approvals and a passing 'ci' gate verdict" in refused.stderr
    reader = members.parity("models", "approve", "churn/1", "-r", "lgtm", user="reader-rita")
    assert reader.returncode == 2
    assert "may not approve a model version for promotion: it needs the admin role" in (
        reader.stderr
    )
    writer = members.parity("models", "approve", "churn/1", "-r", "lgtm")
    assert writer.returncode == 2
    assert "alice (writer) may not approve" in writer.stderr
    for user in ("mo", "boss"):
        why = f"{user} read it"
        approved = members.parity("models", "approve", "churn/1", "-r", why, user=user)
        assert approved.returncode == 0, approved.stderr
    rita = ServerClient(members.server.url, members.tokens["reader-rita"])
    with rita, pytest.raises(AccessDenied):
        rita.post("/models/churn/versions/1/verdicts", {"gate": "ci", "status": "passed"})
    passed = gate.CheckResult("accuracy", "metric", gate.Status.PASSED, "0.97 >= 0.9")
    with members.workspace() as workspace:  # as CI does after 'parity gate' passed
        models.record_verdict("churn/1", gate.GateVerdict.of("ci", [passed]), workspace=workspace)
    moved = members.parity("models", "alias", "churn/1", "production", "-r", "approved")
    assert moved.returncode == 0, moved.stderr

    trail = json.loads(members.parity("models", "history", "churn", "--json").stdout)
    assert [(e["action"], e["actor"], e["reason"]) for e in trail] == [
        ("register", "alice", None),
        ("refused", "alice", "ship"),
        ("approve", "mo", "mo read it"),
        ("approve", "boss", "boss read it"),
        ("gate", "alice", "1 passed, 0 failed, 0 not evaluated"),
        ("alias", "alice", "approved"),
    ]
