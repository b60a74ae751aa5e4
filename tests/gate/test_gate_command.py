"""``parity gate`` and the check commands' ``--junit``/``--markdown`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from parity.api import models
from parity.workspace import Workspace
from tests.conftest import run_parity
from tests.gate.reports import assert_codequality, assert_valid_junit, markdown_tokens
from tests.repro.conftest import THIS_VENV, train

POLICY = """
[gate]
name = "release"

[[gate.checks]]
name = "accuracy"
kind = "metric"
model = "clf@candidate"
metric = "accuracy"
min = 0.5

[[gate.checks]]
name = "no worse than production"
kind = "metric"
model = "clf@candidate"
metric = "accuracy"
baseline = "clf@production"
max_drop = 0.01
missing_baseline = "pass"

[[gate.checks]]
name = "environment"
kind = "env-verify"
model = "clf@candidate"

[[gate.checks]]
name = "lineage"
kind = "lineage"
model = "clf@candidate"

[[gate.checks]]
name = "reproduced"
kind = "repro"
model = "clf@candidate"
"""


def test_a_gate_fails_until_the_candidate_is_reproduced(
    project: Path, workspace: Workspace
) -> None:
    run_id = train(project)
    models.register(run_id, "clf", workspace=workspace)
    models.alias("clf", 1, "candidate", workspace=workspace)
    (project / "parity.toml").write_text(POLICY)
    summary = project / "summary.md"
    reports = (
        "--junit",
        "r/gate.xml",
        "--markdown",
        "r/gate.md",
        "--gitlab-codequality",
        "r/q.json",
    )
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    failed = run_parity("gate", *reports, "--github-annotations", cwd=project, env=env)
    assert failed.returncode == 1, failed.stderr
    assert failed.stderr.splitlines()[-1] == "error: the gate failed: reproduced"
    assert (
        "::error file=parity.toml,line=1,title=reproduced (repro)::clf@candidate was never "
        "reproduced" in failed.stdout
    )
    junit = (project / "r" / "gate.xml").read_text()
    assert_valid_junit(junit)
    assert 'tests="5" failures="1" errors="0"' in junit
    markdown = (project / "r" / "gate.md").read_text()
    assert summary.read_text() == markdown
    assert [t.type for t in markdown_tokens(markdown)].count("tr_open") == 6
    (issue,) = assert_codequality((project / "r" / "q.json").read_text())
    assert issue["check_name"] == "parity.repro"
    repro = run_parity("repro", "clf@candidate", "--venv", str(THIS_VENV), cwd=project)
    assert repro.returncode == 0, repro.stderr
    passed = run_parity("gate", "--json", cwd=project)
    assert passed.returncode == 0, passed.stderr
    verdict = json.loads(passed.stdout)
    assert verdict["counts"] == {"error": 0, "failed": 0, "passed": 5}
    assert [c["summary"] for c in verdict["checks"]][-1] == "clf@candidate: last repro identical"
    again = run_parity("gate", "--json", cwd=project)
    assert again.stdout == passed.stdout  # deterministic


def test_a_check_that_cannot_be_evaluated_exits_two(project: Path, workspace: Workspace) -> None:
    (project / "gate.toml").write_text(
        '[[gate.checks]]\nkind = "metric"\nmodel = "nope@production"\nmetric = "auc"\nmin = 1\n'
    )
    done = run_parity("gate", "--policy", "gate.toml", "--junit", "gate.xml", cwd=project)
    assert done.returncode == 2
    assert "the gate could not be evaluated: metric auc" in done.stderr
    junit = (project / "gate.xml").read_text()
    assert_valid_junit(junit)
    assert 'errors="1"' in junit
    assert run_parity("gate", cwd=project).returncode == 3  # no parity.toml at the root


def test_the_check_commands_write_the_same_reports(project: Path, workspace: Workspace) -> None:
    run_id = train(project)
    models.register(run_id, "clf", workspace=workspace)
    done = run_parity(
        "models", "verify", "clf/1", "--junit", "verify.xml", "--markdown", "verify.md",
        cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert_valid_junit((project / "verify.xml").read_text())
    assert "Gate verify clf/1: passed" in (project / "verify.md").read_text()
    (project / "requirements.txt").write_text("surely-not-installed==1.0\n")
    lock = run_parity("env", "check-lock", "requirements.txt", "--junit", "lock.xml", cwd=project)
    assert lock.returncode == 1
    junit = (project / "lock.xml").read_text()
    assert_valid_junit(junit)
    assert "[high] missing surely-not-installed: locked 1.0, installed -" in junit


def test_gate_model_checks_that_version_not_the_policy_s(
    project: Path, workspace: Workspace
) -> None:
    """A verdict recorded on NAME/VERSION must be about that version: --model replaces the
    policy's model in every check about one."""
    run_id = train(project)
    models.register(run_id, "clf", workspace=workspace)
    (project / "gate.toml").write_text(
        '[gate]\nname = "ci"\n[[gate.checks]]\nkind = "metric"\nmodel = "clf@candidate"\n'
        'metric = "accuracy"\nmin = 0\n'
    )
    unpinned = run_parity("gate", "--policy", "gate.toml", "--json", cwd=project)
    assert unpinned.returncode == 2  # clf has no alias candidate
    pinned = run_parity("gate", "--policy", "gate.toml", "--model", "clf/1", "--json", cwd=project)
    assert pinned.returncode == 0, pinned.stderr
    summary = json.loads(pinned.stdout)["checks"][0]["summary"]
    assert summary.startswith("clf/1"), summary
    assert "recorded gate 'ci' passed on clf/1" in pinned.stderr
