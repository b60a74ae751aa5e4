"""``parity repro``, ``parity gate`` and ``parity deploy`` in team mode: the real CLI against a
live server on PostgreSQL + S3 (moto), the client holding only a token. What each command
records (reproductions, export filings, deployments) is kept by the server, as the token's
user, and read back by the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parity.core.errors import ConflictError, NotFoundError, UsageError
from parity.store.http.client import ServerClient
from tests.gate.reports import assert_valid_junit
from tests.repro.conftest import TABLE, THIS_VENV, TRAIN, write_table
from tests.server._team import Team, team
from tests.tracking.conftest import git

pytestmark = pytest.mark.postgres

POLICY = """
[gate]
name = "release"

[[gate.checks]]
name = "reproduced"
kind = "repro"
model = "clf@candidate"

[[gate.checks]]
name = "lineage"
kind = "lineage"
model = "clf@candidate"
"""
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def members(tmp_path: Path, postgres_url: str, s3_bucket: str, s3_endpoint: str) -> Iterator[Team]:
    with team(tmp_path, postgres_url, s3_bucket, s3_endpoint) as made:
        yield made


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _trained(members: Team) -> str:
    """Commit a training script and its table (pushed to the server) in the member's project,
    train in team mode as alice, register the model as clf/1; the run's id."""
    project = members.client
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.email", "alice@example.com")
    git(project, "config", "user.name", "Alice")
    (project / "train.py").write_text(TRAIN)
    write_table(project / TABLE)
    added = members.parity("data", "add", TABLE)
    assert added.returncode == 0, added.stderr
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "train")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    trained = subprocess.run(
        [sys.executable, "train.py", TABLE],
        cwd=project,
        env={**environ, **members.environ()},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert trained.returncode == 0, trained.stderr
    run_id = trained.stdout.split()[-1]
    _json(members.parity("models", "register", run_id, "--name", "clf", "--json"))
    aliased = members.parity("models", "alias", "clf", "1", "candidate", "-r", "release")
    assert aliased.returncode == 0, aliased.stderr
    return run_id


def test_a_repro_and_a_gate_in_team_mode_keep_and_read_the_verdict_on_the_server(
    members: Team,
) -> None:
    original = _trained(members)
    (members.client / "parity.toml").write_text(POLICY)
    junit = members.client / "gate.xml"
    before = members.parity("gate", "--junit", str(junit))
    assert before.returncode == 1, before.stdout + before.stderr
    assert "was never reproduced: run 'parity repro clf@candidate'" in before.stdout

    done = _json(members.parity("repro", "clf/1", "--venv", str(THIS_VENV), "--json"))
    assert done["verdict"] == "identical", done
    shown = _json(members.parity("models", "show", "clf/1", "--json"))
    assert [(r["original_id"], r["verdict"]) for r in shown["reproductions"]] == [
        (original, "identical")
    ]
    after = members.parity("gate", "--junit", str(junit))
    assert after.returncode == 0, after.stdout + after.stderr
    assert_valid_junit(junit.read_text())
    # The server holds the reproduction, with the report it names.
    with members.served_workspace() as served:
        (kept,) = served.reproductions.of([original])
        assert (kept.run_id, kept.verdict) == (done["runs"][0], "identical")
        assert served.objects.has(kept.report_digest)


def test_exports_and_deployments_in_team_mode_are_filed_as_the_token_s_user(
    members: Team, tmp_path: Path
) -> None:
    _trained(members)
    out = tmp_path / "deploy"
    exported = members.parity("deploy", "export", "clf/1", "--target", "kserve", "-o", str(out))
    assert exported.returncode in (0, 1), exported.stderr  # 1: a package not pinned exactly
    assert (out / "Dockerfile").is_file()
    recorded = _json(
        members.parity(
            "deploy", "record", "clf/1", "--where", "prod-eu", "--image",
            f"registry.example/clf@{DIGEST}", "--json",
        )
    )  # fmt: skip
    assert (recorded["where"], recorded["model"], recorded["recorded_by"]) == (
        "prod-eu",
        "clf/1",
        "alice",  # the token's user, not PARITY_USER
    )
    refused = members.parity(
        "deploy", "record", "clf/1", "--where", "prod-us", "--image",
        f"registry.example/clf@{DIGEST}", user="reader-rita",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "needs the writer role" in refused.stderr

    listed = _json(members.parity("deploy", "list", "--json", user="reader-rita"))
    assert [(d["where"], d["model"]) for d in listed] == [("prod-eu", "clf/1")]
    shown = _json(members.parity("models", "show", "clf/1", "--json"))
    assert [e["target"] for e in shown["exports"]] == ["kserve"]
    assert [d["where"] for d in shown["deployments"]] == ["prod-eu"]
    lineage = members.parity("models", "lineage", "clf/1")
    assert lineage.returncode == 0, lineage.stderr
    assert "kserve" in lineage.stdout
    assert "prod-eu" in lineage.stdout
    with members.served_workspace() as served:
        (filing,) = served.export_filings.of_version("clf", 1)
        assert (filing.target, filing.created_by) == ("kserve", "alice")
        (running,) = served.deployments.current("clf")
        assert running.environment_id is not None  # from the model's record, on the server


def test_the_server_files_only_what_belongs_where_it_is_filed(
    members: Team, tmp_path: Path
) -> None:
    run_id = _trained(members)
    exported = members.parity("deploy", "export", "clf/1", "-o", str(tmp_path / "deploy"))
    assert exported.returncode in (0, 1), exported.stderr
    _json(members.parity("models", "register", run_id, "--name", "other", "--json"))
    with members.served_workspace() as served:
        (filing,) = served.export_filings.of_version("clf", 1)
        model_id = served.registry.get("clf", 1).model_id
        said = {"original": run_id, "verdict": "identical", "runs": [run_id]}
        report = served.objects.put_bytes(json.dumps(said).encode())
        other_report = served.objects.put_bytes(
            json.dumps({**said, "verdict": "different"}).encode()
        )
    with ServerClient(members.server.url, members.tokens["alice"]) as alice:
        with pytest.raises(NotFoundError, match="no deploy export record"):
            alice.post("/models/clf/versions/1/exports", {"export_id": "0" * 64})
        with pytest.raises(ConflictError, match="is for clf/1, not other/1"):
            alice.post("/models/other/versions/1/exports", {"export_id": filing.export_id})
        again = alice.post("/models/clf/versions/1/exports", {"export_id": filing.export_id})
        assert (again["created_ms"], again["created_by"]) == (filing.created_ms, "alice")
        with pytest.raises(ConflictError, match="not " + "0" * 12):
            alice.post(
                "/models/clf/versions/1/deployments",
                {"where": "prod-eu", "model_id": "0" * 64, "image": f"x@{DIGEST}"},
            )
        with pytest.raises(UsageError, match="by digest"):
            alice.post(
                "/models/clf/versions/1/deployments",
                {"where": "prod-eu", "model_id": model_id, "image": "x:latest"},
            )
        with pytest.raises(NotFoundError, match="no report"):
            alice.post(
                f"/runs/{run_id}/reproductions",
                {"run_id": run_id, "verdict": "identical", "report": "1" * 64, "created_ms": 1},
            )
        kept = {"run_id": run_id, "verdict": "identical", "report": report, "created_ms": 5}
        assert alice.post(f"/runs/{run_id}/reproductions", kept)["verdict"] == "identical"
        assert alice.post(f"/runs/{run_id}/reproductions", kept)["verdict"] == "identical"
        with pytest.raises(UsageError, match="is not the report of this reproduction"):
            alice.post(f"/runs/{run_id}/reproductions", {**kept, "verdict": "different"})
        with pytest.raises(ConflictError, match="already reproduced"):
            alice.post(
                f"/runs/{run_id}/reproductions",
                {**kept, "verdict": "different", "report": other_report},
            )
