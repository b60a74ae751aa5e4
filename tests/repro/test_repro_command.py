"""``parity repro`` through the real command line: the plan, the report, exit codes, JSON."""

from __future__ import annotations

import json
from pathlib import Path

from parity.api import models, runs
from parity.workspace import Workspace
from tests.conftest import run_parity
from tests.repro.conftest import THIS_VENV, train


def test_plan_report_and_what_models_and_runs_show(project: Path, workspace: Workspace) -> None:
    original = train(project)
    models.register(original, "clf", workspace=workspace)
    planned = run_parity("repro", original[:10], "--plan", "--venv", str(THIS_VENV), cwd=project)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.startswith("expected: ")
    shown = run_parity("models", "show", "clf/1", cwd=project)
    assert "last repro  never reproduced (parity repro clf/1)" in shown.stdout
    done = run_parity("repro", "clf/1", "--venv", str(THIS_VENV), "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["verdict"] == "identical"
    assert report["original"] == original
    assert set(report["seconds"]) >= {"checkout", "inputs", "environment", "run", "compare"}
    shown = run_parity("models", "show", "clf/1", cwd=project)
    assert "last repro  identical (run " in shown.stdout
    document = json.loads(run_parity("models", "show", "clf/1", "--json", cwd=project).stdout)
    assert [r["verdict"] for r in document["reproductions"]] == ["identical"]
    repro_run = run_parity("runs", "show", report["runs"][0], cwd=project).stdout
    assert f"reproduces   {original[:8]}" in repro_run
    assert "started in   ." in repro_run
    lineage = run_parity("models", "lineage", "clf/1", cwd=project).stdout
    assert "reproduced by → reproduction identical" in lineage


def test_a_failed_repro_exits_one_and_names_the_first_cause(
    project: Path, workspace: Workspace
) -> None:
    original = train(project)
    version = runs.get(original, workspace=workspace).inputs[0].data_version
    done = run_parity(
        "repro", original, "--venv", str(THIS_VENV), "--data", f"elsewhere.csv={version[:10]}",
        cwd=project,
    )  # fmt: skip
    assert done.returncode == 1
    assert "could not run" in done.stdout
    assert done.stderr.startswith("error: the run did not reproduce (could not run): data: ")
    assert "the run read no input at elsewhere.csv" in done.stderr
    bad = run_parity("repro", original, "--data", "nonsense", cwd=project)
    assert bad.returncode == 2
    assert "is not PATH=VERSION" in bad.stderr
