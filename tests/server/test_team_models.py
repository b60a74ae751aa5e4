"""`parity models` and `parity env` in team mode: the real CLI against a live server backed by
PostgreSQL and S3 (moto), the client holding only a token (no database, no S3 credentials).

The first test needs only the registry's routes (its model is stored on the server directly);
the others also need the server's object store and record index (the objects/data routes) and,
where a model is logged from a run in team mode, its run store (the tracking routes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parity.api import models
from parity.core.environment import ENV_KIND
from parity.store.http.client import ServerClient
from tests.server._team import Team, team, train

pytestmark = pytest.mark.postgres


@pytest.fixture
def members(tmp_path: Path, postgres_url: str, s3_bucket: str, s3_endpoint: str) -> Iterator[Team]:
    with team(tmp_path, postgres_url, s3_bucket, s3_endpoint) as made:
        yield made


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _seed_versions(members: Team, model: Any, features: Any, count: int) -> str:
    """Store a model on the server and register ``count`` versions of churn as alice, over
    the API (as a CI job would); returns the model's id."""
    with members.served_workspace() as served:
        model_id, _ = models.save(model, input_example=features, workspace=served)
    with ServerClient(members.server.url, members.tokens["alice"]) as alice:
        for _ in range(count):
            alice.post("/models/churn/versions", {"model_id": model_id})
    return model_id


def test_aliases_locks_and_history_name_the_token_s_user(
    members: Team, breast_cancer: tuple[Any, Any]
) -> None:
    model, features = breast_cancer
    _seed_versions(members, model, features.iloc[:50], 2)

    aliased = members.parity("models", "alias", "churn", "1", "production", "-r", "first release")
    assert aliased.returncode == 0, aliased.stderr
    assert "churn@production → churn/1" in aliased.stdout
    locked = members.parity("models", "lock", "churn@production", "--reason", "serving")
    assert locked.returncode == 0, locked.stderr

    # The lock holds against a writer; a reader may not even try.
    moved = members.parity("models", "alias", "churn", "2", "production", "-r", "try")
    assert moved.returncode == 4
    assert "churn/1 is locked: cannot move alias 'production' off it" in moved.stderr
    refused = members.parity(
        "models", "alias", "churn/2", "staging", "-r", "qa", user="reader-rita"
    )
    assert refused.returncode == 2
    assert "reader-rita (reader) may not set a model alias: it needs the writer role" in (
        refused.stderr
    )
    assert "ask an admin for a token with that role" in refused.stderr
    not_admin = members.parity("models", "unlock", "churn/1", "--reason", "done")
    assert not_admin.returncode == 4
    assert "only an admin may unlock churn/1" in not_admin.stderr
    unlocked = members.parity("models", "unlock", "churn/1", "--reason", "done", user="boss")
    assert unlocked.returncode == 0, unlocked.stderr
    deleted = members.parity("models", "delete", "churn/2", "--reason", "superseded")
    assert deleted.returncode == 0, deleted.stderr

    trail = _json(members.parity("models", "history", "churn", "--json", user="reader-rita"))
    assert [(e["action"], e["version"], e["actor"], e["reason"]) for e in trail] == [
        ("register", 1, "alice", None),
        ("register", 2, "alice", None),
        ("alias", 1, "alice", "first release"),
        ("lock", 1, "alice", "serving"),
        ("unlock", 1, "boss", "done"),
        ("delete", 2, "alice", "superseded"),
    ]
    listed = _json(members.parity("models", "list", "--json"))
    assert [(m["name"], m["latest_version"], m["aliases"]) for m in listed] == [
        ("churn", 1, {"production": 1})
    ]
    versions = _json(members.parity("models", "show", "churn", "--json"))
    assert [(v["version"], v["locked"], v["created_by"]) for v in versions] == [(1, False, "alice")]
    # What the server holds is what the CLI said: its own stores, read directly.
    with members.served_workspace() as served:
        assert served.registry.resolve("churn@production").version == 1
        assert [e.actor for e in served.registry.history("churn")][-1] == "alice"


def test_a_model_logged_in_team_mode_is_registered_shown_and_traced(
    members: Team, breast_cancer: tuple[Any, Any]
) -> None:
    model, features = breast_cancer
    run_id = train(members, model, features.iloc[:100])
    first = _json(members.parity("models", "register", run_id, "--name", "churn", "--json"))
    assert (first["version"], first["run_id"], first["created_by"]) == (1, run_id, "alice")
    second = _json(members.parity("models", "register", run_id[:8], "--name", "churn", "--json"))
    assert second["version"] == 2
    shown = _json(members.parity("models", "show", "churn/2", "--json"))
    assert shown["record"]["flavor"] == "sklearn"
    assert shown["model_id"] == first["model_id"]
    lineage = _json(members.parity("models", "lineage", "churn/1", "--json"))
    assert lineage["summary"]["run_ids"] == [run_id]
    assert lineage["summary"]["model_version"] == "churn/1"
    # In Python too, unchanged: the same calls as embedded.
    with members.workspace() as workspace:
        assert models.get("churn", workspace=workspace).version == 2
        assert models.lineage("churn/1", workspace=workspace).to_dict() == lineage


def test_environments_are_captured_shown_diffed_verified_and_exported_through_the_server(
    members: Team, breast_cancer: tuple[Any, Any]
) -> None:
    captured = _json(members.parity("env", "capture", "--json"))
    environment_id = captured["id"]
    with members.served_workspace() as served:
        assert served.records.get(environment_id, kind=ENV_KIND).kind == ENV_KIND

    shown = _json(members.parity("env", "show", environment_id[:12], "--json"))
    assert shown["id"] == environment_id
    diff = _json(members.parity("env", "diff", environment_id[:12], "current", "--json"))
    assert diff["expected"] == environment_id
    assert [d for d in diff["differences"] if d["risk"] == "high"] == []
    verified = members.parity("env", "verify", environment_id[:12])
    assert verified.returncode == 0, verified.stderr
    assert "verified" in verified.stdout
    out = members.client / "requirements.txt"
    exported = members.parity(
        "env",
        "export",
        environment_id[:12],
        "--format",
        "requirements",
        "--no-hashes",
        "--exclude",
        "parity-ml",  # this source tree, installed editable: not from an index
        "-o",
        str(out),
    )
    assert exported.returncode == 0, exported.stderr
    assert "scikit-learn==" in out.read_text()

    # A model's environment, named by the model: saved with it from this environment.
    model, features = breast_cancer
    run_id = train(members, model, features.iloc[:100])
    registered = members.parity("models", "register", run_id, "--name", "churn")
    assert registered.returncode == 0, registered.stderr
    against_model = _json(members.parity("env", "diff", "churn/1", environment_id[:12], "--json"))
    assert against_model["actual"] == environment_id
    assert [d for d in against_model["differences"] if d["risk"] == "high"] == []
